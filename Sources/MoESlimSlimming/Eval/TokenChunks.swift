import MoESlimSupport

/// Items taken from a stream until the next would pass `limit` tokens; an item larger than the limit goes
/// alone rather than being refused. Items of no tokens are dropped.
struct TokenChunks<Item> {
    private var pending: Item?
    private let next: () throws(MoESlimError) -> Item?
    private let size: (Item) -> Int
    private let limit: Int

    init(limit: Int, size: @escaping (Item) -> Int, next: @escaping () throws(MoESlimError) -> Item?) {
        self.limit = max(1, limit)
        self.size = size
        self.next = next
    }

    mutating func take() throws(MoESlimError) -> [Item] {
        var chunk: [Item] = []
        var tokens = 0
        if pending == nil { pending = try next() }
        while let item = pending, chunk.isEmpty || tokens + size(item) <= limit {
            if size(item) > 0 {
                chunk.append(item)
                tokens += size(item)
            }
            pending = try next()
        }
        return chunk
    }
}

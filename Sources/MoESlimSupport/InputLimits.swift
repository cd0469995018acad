/// Every bound moe-slim puts on what it reads, in one place and in formats/inputs.md. Inputs come from
/// strangers: without a bound, a symlink to /dev/zero posing as config.json, a 50 GB "tokenizer" or a zstd file
/// that expands to terabytes without a newline would fill memory before anything could look at the bytes.
public enum InputLimits {
    static let mebibyte = ByteSize.mebibyte

    /// config.json: the largest real ones (with long rope or quantization tables) are well under 1 MiB.
    public static let configBytes = 16 * mebibyte
    /// adapter_config.json: PEFT's target_modules and rank_pattern lists stay small even per expert.
    public static let adapterConfigBytes = 16 * mebibyte
    /// model.safetensors.index.json: DeepSeek-V3's names 90,000 tensors in about 9 MiB.
    public static let indexBytes = 64 * mebibyte
    /// A plan file: one id list per MoE layer, about 80 KiB for DeepSeek-V3's 58 layers of 256 experts.
    public static let planBytes = 64 * mebibyte
    /// tokenizer.json, also after decompressing tokenizer.json.zst: the largest vocabularies are near 35 MiB.
    public static let tokenizerBytes = 256 * mebibyte
    /// A counts file: about 3 MiB for DeepSeek-V3, and once more per `--group-by` group.
    public static let countsBytes = 256 * mebibyte
    /// One data record (a line, or a whole file with --whole-file) unless --max-record-bytes says otherwise.
    /// Reading and tokenizing a record costs 32 to 140 times its length (formats/inputs.md), so 16 MiB can reach
    /// 1 to 2 GiB.
    public static let defaultRecordBytes = 16 * mebibyte
    /// The largest zstd window a `.zst` input may ask for (2^27 = 128 MiB, what `zstd --long` writes and
    /// libzstd's own default), so a 20-byte frame header cannot make the decoder allocate gigabytes.
    public static let zstdWindowLog: Int32 = 27
}

public enum MoESlimVersion {
    public static let string = "0.1.0"
}

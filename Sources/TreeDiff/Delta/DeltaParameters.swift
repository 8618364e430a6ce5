/// How a signature is computed: block length, strong checksum length and format.
///
/// The defaults are what `rdiff signature -b 2048` writes with librsync 2.3.2:
/// RabinKarp rolling sum, BLAKE2 strong sums of 32 bytes (magic `rs\x01G`).
public struct DeltaParameters: Sendable, Hashable, CustomStringConvertible {
    /// The signature format (rolling sum and strong hash), written as the stream's magic.
    public enum Format: Sendable, Hashable, CaseIterable {
        /// RabinKarp rolling sum + BLAKE2 (`rs\x01G`): rdiff 2.3.2's default, the one to use.
        case rabinKarpBlake2
        /// Adler-style rolling sum + BLAKE2 (`rs\x017`), librsync 1.x.
        case blake2
        /// RabinKarp + MD4 (`rs\x01F`); MD4 is unsafe on partly untrusted data.
        case rabinKarpMD4
        /// Adler-style + MD4 (`rs\x016`), librsync < 1.0; unsafe on partly untrusted data.
        case md4

        var magic: UInt32 {
            switch self {
            case .rabinKarpBlake2: return Librsync.rabinKarpBlake2Magic
            case .blake2: return Librsync.blake2Magic
            case .rabinKarpMD4: return Librsync.rabinKarpMD4Magic
            case .md4: return Librsync.md4Magic
            }
        }

        init?(magic: UInt32) {
            guard let f = Format.allCases.first(where: { $0.magic == magic }) else { return nil }
            self = f
        }

        /// The longest strong sum the format's hash gives (BLAKE2: 32, MD4: 16).
        public var maxStrongLength: Int {
            switch self {
            case .rabinKarpBlake2, .blake2: return 32
            case .rabinKarpMD4, .md4: return 16
            }
        }
    }

    /// Bytes per block: the granularity at which unchanged data is found.
    public var blockLength: Int
    /// Bytes of strong checksum kept per block (1...32 for BLAKE2).
    public var strongLength: Int
    /// The signature format.
    public var format: Format

    /// Creates parameters; `validate()` checks them against librsync before use.
    public init(blockLength: Int = 2048, strongLength: Int = 32, format: Format = .rabinKarpBlake2) {
        self.blockLength = blockLength
        self.strongLength = strongLength
        self.format = format
    }

    /// The block length for files up to `smallBlockLimit`: one filesystem/guest page.
    public static let smallBlockLength = 4096
    /// Files up to this size get 4 KiB blocks (1 Mi blocks, a 20 MiB signature at 16-byte sums).
    public static let smallBlockLimit: Int64 = 4 << 30
    /// The largest block length ever recommended.
    public static let maxBlockLength = 1 << 20

    /// The parameters to use for a file of `fileSize` bytes.
    ///
    /// VM images are written by guests in 4 KiB pages scattered over the image, so a block
    /// larger than a page turns each changed page into a whole changed block on the wire:
    /// measured on a 1 GiB image with 1% scattered 4 KiB changes (delta bench), 4 KiB blocks
    /// send 1.08x the changed bytes, 8 KiB 2.0x, 16 KiB 3.9x and rsync-like 64 KiB blocks 14.7x;
    /// 1-2 KiB blocks gain nothing (1.28x, 1.14x: more commands, each page straddles blocks).
    /// Small blocks cost signature size and memory (one entry per block on both sides), so
    /// blocks stay at 4 KiB up to 4 GiB (at most 1 Mi blocks: a ~20 MiB signature on the wire,
    /// ~40 MiB loaded) and then double so the block count stays at or below 1 Mi, up to 1 MiB
    /// blocks (a 1 TiB image). Strong sums are 16 bytes of BLAKE2: 128 bits keep a crafted
    /// collision (a guest writing both blocks) out of reach, at half of rdiff's 32-byte size.
    /// - Parameter fileSize: the size of the base file (the one the signature describes).
    public static func recommended(forFileSize fileSize: Int64) -> DeltaParameters {
        var block = smallBlockLength
        let maxBlocks = smallBlockLimit / Int64(smallBlockLength)
        while block < maxBlockLength, (fileSize + Int64(block) - 1) / Int64(block) > maxBlocks {
            block *= 2
        }
        return DeltaParameters(blockLength: block, strongLength: 16, format: .rabinKarpBlake2)
    }

    /// Checks the parameters with librsync (`rs_sig_args`).
    /// - Throws: `DeltaError` `.invalidParameters` when librsync would refuse them.
    public func validate() throws {
        guard blockLength > 0, blockLength <= Int(Int32.max), strongLength > 0,
              strongLength <= format.maxStrongLength else {
            throw DeltaError(.invalidParameters, context: "checking signature parameters \(self)")
        }
        if let code = Librsync.checkSignatureArguments(
            fileSize: -1, magic: format.magic, blockLength: blockLength, strongLength: strongLength) {
            throw DeltaError(code, context: "checking signature parameters \(self)")
        }
    }

    /// Bytes of the signature of a file of `fileSize` bytes: 12-byte header + per block
    /// 4 bytes of rolling sum and `strongLength` bytes of strong sum.
    public func signatureSize(forFileSize fileSize: Int64) -> Int64 {
        let blocks = (fileSize + Int64(blockLength) - 1) / Int64(blockLength)
        return 12 + blocks * Int64(4 + strongLength)
    }

    public var description: String {
        "block \(blockLength) B, strong sum \(strongLength) B, \(format)"
    }
}

import Foundation
import SystemPackage
import TreeDiff

/// Delta engine benchmark: a VM-image-like file with 1% scattered 4 KiB changes; signature,
/// delta and patch throughput and delta size for TreeDiff beside the real `rdiff`, a block
/// size table, and zlib level 1 vs 6.
///
/// Arguments: `--size-mib N` (default 1024), `--dir PATH` (default a temp dir, removed after),
/// `--change-percent P` (default 1), `--seed S`, `--no-table`, `--no-rdiff`.
func runDeltaBench(arguments: [String]) throws {
    var sizeMiB = 1024, dir: String?, seed: UInt64 = 42, percent = 1.0, table = true, rdiff = true
    var args = arguments[...]
    while let a = args.popFirst() {
        switch a {
        case "--size-mib": sizeMiB = Int(args.popFirst() ?? "") ?? sizeMiB
        case "--dir": dir = args.popFirst()
        case "--seed": seed = UInt64(args.popFirst() ?? "") ?? seed
        case "--change-percent": percent = Double(args.popFirst() ?? "") ?? percent
        case "--no-table": table = false
        case "--no-rdiff": rdiff = false
        default: throw BenchError("unknown argument \(a); see bench/DeltaBench.swift")
        }
    }
    let root = dir ?? NSTemporaryDirectory() + "delta-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { if dir == nil { try? FileManager.default.removeItem(atPath: root) } }
    func path(_ n: String) -> String { root + "/" + n }

    let size = Int64(sizeMiB) << 20
    print("delta bench: \(sizeMiB) MiB image-like file, \(percent)% scattered 4 KiB changes, seed \(seed), in \(root)")
    let changed = try BenchWorkload.write(base: path("base"), new: path("new"), size: size,
                                          changePercent: percent, seed: seed)
    print("changed: \(changed) bytes (\(changed / 4096) pages)\n")

    let params = DeltaParameters.recommended(forFileSize: size)
    print("parameters: \(params) (DeltaParameters.recommended)")
    print(pad(["", "signature MiB/s", "delta MiB/s", "patch MiB/s", "delta bytes", "delta/changed", "sig bytes"]))

    // TreeDiff.
    let sigT = try time { try BenchFiles.signature(path("base"), path("our.sig"), params) }
    var summary = DeltaFiles.DeltaSummary(literalBytes: 0, copiedBytes: 0, deltaBytes: 0)
    let deltaT = try time { summary = try BenchFiles.delta(path("our.sig"), path("new"), path("our.delta")) }
    let patchT = try time { try BenchFiles.patch(path("base"), path("our.delta"), path("our.out")) }
    try check(cmp(path("new"), path("our.out")), "TreeDiff patch output differs from the new file")
    let ourDelta = fileSize(path("our.delta"))
    print(pad(["TreeDiff", mibps(size, sigT), mibps(size, deltaT), mibps(size, patchT), "\(ourDelta)",
               ratio(ourDelta, changed), "\(fileSize(path("our.sig")))"]))

    if rdiff {
        let b = "\(params.blockLength)", s = "\(params.strongLength)"
        let rs = try time { try check(run(["rdiff", "-b", b, "-S", s, "signature", path("base"), path("rd.sig")]), "rdiff signature") }
        let rd = try time { try check(run(["rdiff", "delta", path("rd.sig"), path("new"), path("rd.delta")]), "rdiff delta") }
        let rp = try time { try check(run(["rdiff", "patch", path("base"), path("rd.delta"), path("rd.out")]), "rdiff patch") }
        try check(cmp(path("new"), path("rd.out")), "rdiff patch output differs from the new file")
        let rdDelta = fileSize(path("rd.delta"))
        print(pad(["rdiff 2.3.2", mibps(size, rs), mibps(size, rd), mibps(size, rp), "\(rdDelta)",
                   ratio(rdDelta, changed), "\(fileSize(path("rd.sig")))"]))
        print("TreeDiff/rdiff time: signature \(ratio2(sigT, rs)), delta \(ratio2(deltaT, rd)), patch \(ratio2(patchT, rp))")
        for f in ["rd.sig", "rd.delta", "rd.out"] { unlink(path(f)) }
    }
    print("literal \(summary.literalBytes) B, copied \(summary.copiedBytes) B")
    unlink(path("our.out"))

    if table {
        print("\nblock size vs delta size (same workload, 16-byte strong sums; sig RSS measured on the")
        print("first load only, later loads reuse freed heap):")
        print(pad(["block", "sig bytes", "sig % of file", "delta bytes", "delta/changed", "sig RSS", "estimate"]))
        for block in [1024, 2048, 4096, 8192, 16384, 65536] {
            let p = DeltaParameters(blockLength: block, strongLength: 16)
            try BenchFiles.signature(path("base"), path("t.sig"), p)
            let rssBefore = residentBytes()
            let sig = try BenchFiles.loadSignature(path("t.sig"))
            let heap = residentBytes() - rssBefore
            try BenchFiles.delta(path("t.sig"), path("new"), path("t.delta"))
            let sigBytes = fileSize(path("t.sig")), d = fileSize(path("t.delta"))
            print(pad(["\(block)", "\(sigBytes)", String(format: "%.2f%%", Double(sigBytes) * 100 / Double(size)),
                       "\(d)", ratio(d, changed), block == 1024 ? "\(heap >> 10) KiB" : "-",
                       "\(sig.estimatedMemory >> 10) KiB"]))
        }
        for f in ["t.sig", "t.delta"] { unlink(path(f)) }
    }

    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print("\npeak RSS after signature/delta/patch: \(usage.ru_maxrss / 1024) MiB (file: \(sizeMiB) MiB)")

    try BenchCompression.run(imagePath: path("new"), deltaPath: path("our.delta"), seed: seed)
}

fileprivate struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

fileprivate func check(_ ok: Bool, _ what: String) throws { if !ok { throw BenchError("\(what) failed") } }

fileprivate func time(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

fileprivate func run(_ args: [String]) throws -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus == 0
}

/// Resident set size now, from /proc/self/statm.
fileprivate func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

fileprivate func cmp(_ a: String, _ b: String) throws -> Bool { try run(["cmp", "-s", a, b]) }
fileprivate func fileSize(_ p: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? Int).map(Int64.init) ?? -1
}
fileprivate func mibps(_ bytes: Int64, _ seconds: Double) -> String { String(format: "%.0f", Double(bytes) / 1048576 / seconds) }
fileprivate func ratio(_ a: Int64, _ b: Int64) -> String { String(format: "%.2fx", Double(a) / Double(b)) }
fileprivate func ratio2(_ a: Double, _ b: Double) -> String { String(format: "%.2fx", a / b) }
fileprivate func pad(_ cols: [String]) -> String {
    cols.enumerated().map { i, c in i == 0 ? c.padding(toLength: 12, withPad: " ", startingAt: 0)
        : String(repeating: " ", count: max(0, 16 - c.count)) + c }.joined()
}

/// Seeded workload for the delta bench: an image-like base (per 64 KiB: 40% zeros, 30% text-like
/// records, 30% random as in compressed binaries) and a copy with scattered 4 KiB pages replaced.
fileprivate enum BenchWorkload {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func fill(_ b: UnsafeMutableRawBufferPointer) {
            let words = b.count / 8
            let w = b.baseAddress!.bindMemory(to: UInt64.self, capacity: words)
            for i in 0..<words { w[i] = next() }
        }
    }

    static let text = Array((0..<2000).map { "id=\($0)\nhost=vm\($0 % 37).example.com\nstatus=up\nbandwidth=\($0 * 7919)\n" }
        .joined().utf8)

    /// Writes both files; returns the number of changed bytes.
    static func write(base: String, new: String, size: Int64, changePercent: Double, seed: UInt64) throws -> Int64 {
        let page = 4096, region = 64 * 1024
        var rng = Rng(s: seed)
        let pages = Int(size / Int64(page))
        var changed = Set<Int>()
        let want = Int(Double(pages) * changePercent / 100)
        while changed.count < want { changed.insert(Int(rng.next() % UInt64(pages))) }
        let b = try FileDescriptor.open(FilePath(base), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let n = try FileDescriptor.open(FilePath(new), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        defer { try? b.close(); try? n.close() }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: region, alignment: 16)
        defer { buf.deallocate() }
        var offset: Int64 = 0
        while offset < size {
            let len = Int(min(Int64(region), size - offset))
            switch rng.next() % 10 {
            case 0..<4: buf.initializeMemory(as: UInt8.self, repeating: 0)
            case 4..<7:
                let start = Int(rng.next() % UInt64(text.count - region))
                text.withUnsafeBytes { buf.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + region])) }
            default: rng.fill(buf)
            }
            let chunk = UnsafeRawBufferPointer(rebasing: buf[0..<len])
            _ = try b.writeAll(toAbsoluteOffset: offset, chunk)
            for p in 0..<len / page where changed.contains(Int(offset) / page + p) {
                rng.fill(UnsafeMutableRawBufferPointer(rebasing: buf[p * page..<(p + 1) * page]))
            }
            _ = try n.writeAll(toAbsoluteOffset: offset, UnsafeRawBufferPointer(rebasing: buf[0..<len]))
            offset += Int64(len)
        }
        return Int64(changed.count * page)
    }
}

/// The delta engine over named files.
fileprivate enum BenchFiles {
    static func open(_ p: String, _ mode: FileDescriptor.AccessMode, create: Bool = false) throws -> FileDescriptor {
        try FileDescriptor.open(FilePath(p), mode, options: create ? [.create, .truncate] : [],
                                permissions: create ? [.ownerReadWrite] : nil)
    }

    static func signature(_ base: String, _ sig: String, _ p: DeltaParameters) throws {
        let b = try open(base, .readOnly), s = try open(sig, .writeOnly, create: true)
        defer { try? b.close(); try? s.close() }
        try DeltaFiles.signature(of: b, parameters: p) { _ = try s.writeAll($0) }
    }

    static func loadSignature(_ sig: String) throws -> Signature {
        let s = try open(sig, .readOnly)
        defer { try? s.close() }
        return try DeltaFiles.loadSignature(from: s)
    }

    @discardableResult
    static func delta(_ sig: String, _ new: String, _ delta: String) throws -> DeltaFiles.DeltaSummary {
        let signature = try loadSignature(sig)
        let n = try open(new, .readOnly), d = try open(delta, .writeOnly, create: true)
        defer { try? n.close(); try? d.close() }
        return try DeltaFiles.delta(of: n, against: signature) { _ = try d.writeAll($0) }
    }

    static func patch(_ base: String, _ delta: String, _ out: String) throws {
        let b = try open(base, .readOnly), d = try open(delta, .readOnly), o = try open(out, .writeOnly, create: true)
        defer { try? b.close(); try? d.close(); try? o.close() }
        // Not sparse: the same work as `rdiff patch`, which writes every byte.
        try DeltaFiles.patch(base: b, delta: d, output: o, sparse: false)
    }
}

/// zlib level 1 vs 6 on image-like data, text-like data and the delta itself.
fileprivate enum BenchCompression {
    static func run(imagePath: String, deltaPath: String, seed: UInt64) throws {
        print("\nzlib on the wire (Deflater level 1 vs 6):")
        print(pad(["data", "level", "in MiB", "out/in", "compress MiB/s", "inflate MiB/s"]))
        let image = try readPrefix(imagePath, 256 << 20)
        let delta = try readPrefix(deltaPath, 256 << 20)
        var text: [UInt8] = []
        while text.count < 64 << 20 { text += BenchWorkload.text }
        for (name, data) in [("image", image), ("text", text), ("delta", delta)] {
            for level in [1, 6] {
                var compressed: [UInt8] = []
                compressed.reserveCapacity(data.count / 2)
                let ct = try time {
                    let d = try Deflater(level: level)
                    try data.withUnsafeBytes { try d.feed($0, isLast: true) { compressed += $0 } }
                }
                var out: Int64 = 0
                let it = try time {
                    let i = try Inflater(maxOutput: Int64(data.count))
                    try compressed.withUnsafeBytes { try i.feed($0, isLast: true) { out += Int64($0.count) } }
                }
                try check(out == Int64(data.count), "inflate round trip")
                print(pad([name, "\(level)", String(format: "%.0f", Double(data.count) / 1048576),
                           String(format: "%.3f", Double(compressed.count) / Double(data.count)),
                           mibps(Int64(data.count), ct), mibps(Int64(data.count), it)]))
            }
        }
    }

    static func readPrefix(_ path: String, _ max: Int) throws -> [UInt8] {
        let fh = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? fh.close() }
        return [UInt8](try fh.read(upToCount: max) ?? Data())
    }
}

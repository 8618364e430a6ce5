import MirrorEngine
import Testing

/// The text forms of progress figures (a format contract the CLI prints) and the rate/ETA math.
@Suite struct ProgressFormatTests {
    @Test func sizesInBinaryUnits() {
        #expect(ProgressFormat.bytes(0) == "0 B")
        #expect(ProgressFormat.bytes(1023) == "1023 B")
        #expect(ProgressFormat.bytes(1024) == "1.0 KiB")
        #expect(ProgressFormat.bytes(1536) == "1.5 KiB")
        #expect(ProgressFormat.bytes(Int64(3.4 * 1024 * 1024 * 1024)) == "3.4 GiB")
        #expect(ProgressFormat.bytes(5 << 40) == "5.0 TiB")
        #expect(ProgressFormat.bytes(-5) == "0 B")
    }

    @Test func ratesAndDurations() {
        #expect(ProgressFormat.rate(85.3 * 1024 * 1024) == "85.3 MiB/s")
        #expect(ProgressFormat.rate(nil) == "-- B/s")
        #expect(ProgressFormat.duration(27) == "0:27")
        #expect(ProgressFormat.duration(600) == "10:00")
        #expect(ProgressFormat.duration(3723) == "1:02:03")
        #expect(ProgressFormat.duration(nil) == "--:--")
    }

    @Test func rateAndETAFromElapsedTime() {
        var p = TransferProgress(replica: "r", filesDone: 1, filesTotal: 4, bytesDone: 100, bytesTotal: 250, elapsedSeconds: 1)
        #expect(p.bytesPerSecond == 100)
        #expect(p.etaSeconds == 2)  // 1.5 s left rounds up
        p.bytesDone = 0
        #expect(p.bytesPerSecond == nil)
        #expect(p.etaSeconds == nil)  // nothing sent yet: unknown, not infinite
        p.bytesDone = 250
        #expect(p.etaSeconds == 0)
        p = TransferProgress(replica: "r", filesDone: 0, filesTotal: 1, bytesDone: 10, bytesTotal: 20, elapsedSeconds: 0)
        #expect(p.bytesPerSecond == nil)
        #expect(p.etaSeconds == nil)
    }

    @Test func oneStatusLine() {
        let p = TransferProgress(replica: "dr1", filesDone: 1234, filesTotal: 5000, bytesDone: 3 << 29,
                                 bytesTotal: 4 << 30, elapsedSeconds: 10)
        // 1.5 GiB in 10 s = 153.6 MiB/s; 2.5 GiB left at that rate = 16.7 s, shown as 17.
        #expect(ProgressFormat.line(p) == "dr1  1234/5000 files  1.5 GiB/4.0 GiB  153.6 MiB/s  ETA 0:17")
    }
}

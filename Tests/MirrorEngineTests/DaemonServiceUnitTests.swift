@testable import MirrorEngine
import Testing

@Suite struct DaemonServiceUnitTests {
    @Test func execStartCarriesRootAndConfig() {
        let unit = ServiceUnit(binary: "/usr/local/bin/cloudmin-mirror", root: "/srv/m", config: "/etc/cm.conf")
        let lines = unit.text.split(separator: "\n").map(String.init)
        #expect(lines.contains("ExecStart=/usr/local/bin/cloudmin-mirror daemon --root /srv/m --config /etc/cm.conf"))
        #expect(lines.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        #expect(lines.contains("WantedBy=multi-user.target"))
        #expect(unit.cronLine == "*/5 * * * * root /usr/local/bin/cloudmin-mirror sync --root /srv/m --config /etc/cm.conf --wait 240")
        let plain = ServiceUnit(binary: "/usr/bin/cloudmin-mirror")
        #expect(plain.execStart == "/usr/bin/cloudmin-mirror daemon")
    }

    @Test func wordsSystemdWouldSplitOrExpandAreQuoted() {
        let unit = ServiceUnit(binary: "/opt/my tools/cloudmin-mirror", root: "/srv/100%$x")
        #expect(unit.execStart == #""/opt/my tools/cloudmin-mirror" daemon --root /srv/100%%$$x"#)
        #expect(ServiceUnit.quote(#"a"b\c"#) == #""a\"b\\c""#)
    }
}

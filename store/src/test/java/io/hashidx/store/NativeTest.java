package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system calls of {@link Native}: the store tests run with native access (as the launcher runs
 * the store), so fallocate reserves blocks and every mapping is advised MADV_RANDOM; with them
 * suspended the portable path writes the same bytes.
 */
class NativeTest {
    @TempDir
    Path tmp;

    @Test
    void theStoreTestsRunWithNativeAccessAsTheLauncherDoes() {
        assertThat(Native.enabled())
                .as("store/pom.xml passes --enable-native-access=io.hashidx.store to the tests")
                .isTrue();
    }

    @Test
    void allocateExtendsTheFileWithRealBlocksNotAHole() throws Exception {
        Path f = tmp.resolve("f");
        Files.write(f, new byte[4096]);
        int fd = Native.openForAllocation(f);
        try {
            assertThat(fd).isNotNegative();
            assertThat(Native.allocate(fd, 4096, 8 << 20)).isTrue();
        } finally {
            Native.close(fd);
        }
        assertThat(Files.size(f)).isEqualTo(4096 + (8 << 20));
        assertThat(allocatedBytes(f)).as("blocks reserved, not a sparse hole").isGreaterThanOrEqualTo(8L << 20);
        assertThat(Files.readAllBytes(f)).containsOnly(0);
    }

    /**
     * POSIX record locks belong to the process, and closing any descriptor of the file drops them all:
     * a descriptor opened and closed for each fallocate once let a reader process take the writer for
     * dead (it saw torn values) and would let a second writer in. The kernel's lock list shows the
     * writer's lock after the file was extended many times.
     */
    @Test
    void theWritersLockOutlivesEveryExtensionOfTheFile() throws Exception {
        Path path = tmp.resolve("locked.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(3))) {
            long size = Files.size(path);
            for (long i = 0; i < 50_000; i++) {
                idx.put(Fixtures.key16(i), Fixtures.value16(i, 0));
            }
            assertThat(Files.size(path)).as("extended").isGreaterThan(8 * size);
            assertThat(posixLocksOf(path)).as("this process's record locks on %s in /proc/locks", path).isNotEmpty();
        }
        assertThat(posixLocksOf(path)).as("released by close").isEmpty();
    }

    /** Lines of /proc/locks for POSIX locks of this process on {@code file}'s inode. */
    private static List<String> posixLocksOf(Path file) throws IOException {
        long inode = (Long) Files.getAttribute(file, "unix:ino");
        String pid = Long.toString(ProcessHandle.current().pid());
        List<String> mine = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
            String[] f = line.trim().split("\\s+");
            // "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
            if (f.length >= 6 && f[1].equals("POSIX") && f[4].equals(pid) && f[5].endsWith(":" + inode)) {
                mine.add(line);
            }
        }
        return mine;
    }

    @Test
    void aFileGrownWithFallocateHoldsTheSameBytesAsOneGrownWithZeros() throws Exception {
        byte[] a = build(tmp.resolve("native.hidx"));
        Native.suspended = true;
        byte[] b;
        try {
            b = build(tmp.resolve("portable.hidx"));
        } finally {
            Native.suspended = false;
        }
        assertThat(a.length).isEqualTo(b.length);
        assertThat(a).as("same operations, same seed: same file").isEqualTo(b);
        assertThat(allocatedBytes(tmp.resolve("native.hidx"))).isGreaterThanOrEqualTo(a.length - 4096L);
    }

    @Test
    void everyMappingIsAdvisedRandom() throws Exception {
        Path path = tmp.resolve("advised.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(7).expectedEntries(100_000))) {
            idx.put(Fixtures.key16(1), Fixtures.value16(1, 0));
            List<String> flags = vmFlagsOf(path.toRealPath().toString());
            assertThat(flags).as("mappings of %s in /proc/self/smaps", path).isNotEmpty();
            // "rr": the VMA has MADV_RANDOM (proc(5), VmFlags)
            assertThat(flags).allSatisfy(f -> assertThat(f.split(" ")).contains("rr"));
        }
    }

    private static byte[] build(Path path) throws IOException {
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(42))) {
            for (long i = 0; i < 20_000; i++) {
                idx.put(Fixtures.key16(i), Fixtures.value16(i, 0));
            }
        }
        return Files.readAllBytes(path);
    }

    /** Bytes of disk blocks the file holds (stat's %b blocks of %B bytes). */
    private static long allocatedBytes(Path f) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).as("stat: %s", out).isZero();
        String[] parts = out.split(" ");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }

    /** The VmFlags lines of this process's mappings of {@code file}. */
    private static List<String> vmFlagsOf(String file) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        List<String> flags = new java.util.ArrayList<>();
        boolean inFile = false;
        for (String line : lines) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inFile = line.endsWith(" " + file);
            } else if (inFile && line.startsWith("VmFlags:")) {
                flags.add(line.substring("VmFlags:".length()).strip());
            }
        }
        return flags;
    }
}

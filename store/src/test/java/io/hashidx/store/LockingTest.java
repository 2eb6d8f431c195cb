package io.hashidx.store;

import static io.hashidx.store.Fixtures.assertFails;
import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndexException.Code;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer and any number of readers per file, across processes (POSIX record locks, readers
 * registered in the reader table) and inside this JVM (the registry in {@link FileLocks}: one writer,
 * or readers). Other processes are real child JVMs running {@link LockHolder}.
 */
class LockingTest {
    @TempDir
    Path dir;
    private Path path;

    @BeforeEach
    void createIndex() {
        path = dir.resolve("locked.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(1))) {
            idx.put(key16(1), value16(1, 0));
        }
    }

    // ---------------------------------------------------------------- inside this JVM

    @Test
    void aSecondOpenForWritingInTheSameJvmIsLocked() {
        try (HashIndex idx = HashIndex.open(path)) {
            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "already open for writing in this JVM");
            assertThat(idx.get(key16(1))).isEqualTo(value16(1, 0));
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.size()).isEqualTo(1);
        }
    }

    @Test
    void readOnlyOpensShareTheFileButKeepWritersOut() {
        try (HashIndex a = HashIndex.openReadOnly(path); HashIndex b = HashIndex.openReadOnly(path)) {
            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "already open read-only in this JVM");
            assertThat(a.get(key16(1))).isEqualTo(value16(1, 0));
            assertThat(b.get(key16(1))).isEqualTo(value16(1, 0));
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.size()).isEqualTo(1);
        }
    }

    /**
     * POSIX locks belong to the process and closing any channel on the file drops them all, so every
     * refused open in this JVM must be refused before it opens a channel. After each refused attempt,
     * a child process still cannot open the file.
     */
    @Test
    void refusedOpensInThisJvmDoNotDropTheWritersLock() throws Exception {
        Path link = dir.resolve("hard-link.hidx");
        Files.createLink(link, path);
        try (HashIndex writer = HashIndex.open(path)) {
            assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "already open for writing in this JVM");
            assertThat(probe("probe-write")).isEqualTo("LOCKED");
            assertThat(probe("probe-read")).isEqualTo("opened");

            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path);
            assertFails(() -> HashIndex.open(link), HashIndexException.Locked.class, Code.LOCKED, link);
            assertFails(() -> HashIndex.openReadOnly(link), HashIndexException.Locked.class, Code.LOCKED, link);
            assertFails(() -> HashIndex.create(path, Options.widths(16, 16)), HashIndexException.State.class,
                    Code.INVALID_ARGUMENT, path, "already exists");
            assertThat(probe("probe-write")).isEqualTo("LOCKED");
            assertThat(probe("probe-read")).isEqualTo("opened");

            writer.put(key16(2), value16(2, 0));
            assertThat(writer.size()).isEqualTo(2);
        }
        assertThat(probe("probe-write")).isEqualTo("opened");
    }

    @Test
    void eachReadOnlyHandleHoldsItsOwnReaderSlotUntilClosed() throws Exception {
        long pid = ProcessHandle.current().pid();
        HashIndex a = HashIndex.openReadOnly(path);
        try (HashIndex b = HashIndex.openReadOnly(path)) {
            ReaderTable readers = b.table().file.readers();
            assertThat(readers.readers()).extracting(r -> r[1]).containsExactly(pid, pid);
            a.close();
            assertThat(readers.readers()).extracting(r -> r[1]).containsExactly(pid);
            assertThat(probe("probe-write")).as("a writer process beside a reader").isEqualTo("opened");
            assertThat(probe("probe-read")).as("a reader process").isEqualTo("opened");
            assertThat(b.get(key16(1))).isEqualTo(value16(1, 0));
        }
        try (HashIndex w = HashIndex.open(path)) {
            assertThat(w.table().file.readers().readers()).isEmpty();
        }
    }

    /**
     * A process that cannot open the reader table (here: its name is taken by a directory) reads only
     * while no process writes, and keeps writers out meanwhile, as before the reader table existed.
     */
    @Test
    void aReaderWithoutTheReaderTableAndAWriterExcludeEachOther() throws Exception {
        Files.delete(ReaderTable.pathFor(path));
        Files.createDirectory(ReaderTable.pathFor(path));
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat(ro.table().file.readers()).isNull();
            assertThat(probe("probe-write")).isEqualTo("LOCKED");
            assertThat(ro.get(key16(1))).isEqualTo(value16(1, 0));
        }
        try (HashIndex w = HashIndex.open(path)) {
            assertThat(w.table().file.readers()).isNull();
            assertThat(probe("probe-read")).isEqualTo("LOCKED");
        }
        Files.delete(ReaderTable.pathFor(path));
        try (HashIndex w = HashIndex.open(path)) {
            assertThat(probe("probe-read")).as("a reader beside a writer that has the table").isEqualTo("opened");
        }
    }

    // ---------------------------------------------------------------- another process

    @Test
    void anotherProcessWritingLocksWritersOutButLetsReadersIn() throws Exception {
        Process child = start("hold-write");
        try {
            BufferedReader out = reader(child);
            assertThat(out.readLine()).as("child: %s", stderr()).isEqualTo("locked");
            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "another process has the file open for writing");
            try (HashIndex ro = HashIndex.openReadOnly(path)) {
                assertThat(ro.get(key16(1))).isEqualTo(value16(1, 0));
                assertFails(ro::verify, HashIndexException.Locked.class, Code.LOCKED, path,
                        "another process is writing the file");
            }
            child.getOutputStream().close();
            assertThat(out.readLine()).isEqualTo("closed");
            assertThat(child.waitFor()).as("child exit status; %s", stderr()).isZero();
        } finally {
            child.destroyForcibly();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.get(key16(1))).isEqualTo(value16(1, 0));
        }
    }

    @Test
    void anotherProcessReadingLetsAWriterAndReadersIn() throws Exception {
        Process child = start("hold-read");
        try {
            BufferedReader out = reader(child);
            assertThat(out.readLine()).as("child: %s", stderr()).isEqualTo("locked");
            try (HashIndex ro = HashIndex.openReadOnly(path)) {
                assertThat(ro.get(key16(1))).isEqualTo(value16(1, 0));
            }
            try (HashIndex w = HashIndex.open(path)) {
                assertThat(w.table().file.readers().readers()).extracting(r -> r[1])
                        .containsExactly(child.pid());
            }
            child.getOutputStream().close();
            assertThat(out.readLine()).isEqualTo("closed");
            assertThat(child.waitFor()).as("child exit status; %s", stderr()).isZero();
        } finally {
            child.destroyForcibly();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.size()).isEqualTo(1);
        }
    }

    @Test
    void aWriterHereLocksOutAnotherWriterProcessButNotAReader() throws Exception {
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(probe("probe-write")).isEqualTo("LOCKED");
            assertThat(probe("probe-read")).isEqualTo("opened");
            assertThat(idx.size()).isEqualTo(1);
        }
        assertThat(probe("probe-read")).isEqualTo("opened");
    }

    // ---------------------------------------------------------------- child JVM

    private Path stderrFile() {
        return dir.resolve("child-stderr.txt");
    }

    private String stderr() {
        try {
            return "child stderr: " + (Files.exists(stderrFile()) ? Files.readString(stderrFile()) : "");
        } catch (IOException e) {
            return "child stderr unreadable: " + e;
        }
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Runs a probe in a child JVM and returns the line it prints ("opened" or an error code). */
    private String probe(String mode) throws Exception {
        Process child = start(mode);
        try {
            String line = reader(child).readLine();
            assertThat(child.waitFor()).as("child exit status; %s", stderr()).isZero();
            assertThat(line).as("child output; %s", stderr()).isNotNull();
            return line;
        } finally {
            child.destroyForcibly();
        }
    }

    /** Starts {@link LockHolder} in a new JVM ({@link ChildJvm}). */
    private Process start(String mode) throws IOException, URISyntaxException {
        List<String> command = new ArrayList<>(List.of(ChildJvm.java(), "-Xmx64m", "-cp",
                ChildJvm.classPath(LockHolder.class), LockHolder.class.getName(), mode, path.toString()));
        return new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.to(stderrFile().toFile()))
                .start();
    }
}

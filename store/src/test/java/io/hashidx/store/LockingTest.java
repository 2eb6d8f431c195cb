package io.hashidx.store;

import static io.hashidx.store.Fixtures.assertFails;
import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndexException.Code;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer or many readers per file, across processes (POSIX record locks) and inside this JVM
 * (the registry in {@link FileLocks}). Other processes are real child JVMs running {@link LockHolder}.
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
            assertThat(probe("probe-read")).isEqualTo("LOCKED");

            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path);
            assertFails(() -> HashIndex.open(link), HashIndexException.Locked.class, Code.LOCKED, link);
            assertFails(() -> HashIndex.openReadOnly(link), HashIndexException.Locked.class, Code.LOCKED, link);
            assertFails(() -> HashIndex.create(path, Options.widths(16, 16)), HashIndexException.State.class,
                    Code.INVALID_ARGUMENT, path, "already exists");
            assertThat(probe("probe-write")).isEqualTo("LOCKED");
            assertThat(probe("probe-read")).isEqualTo("LOCKED");

            writer.put(key16(2), value16(2, 0));
            assertThat(writer.size()).isEqualTo(2);
        }
        assertThat(probe("probe-write")).isEqualTo("opened");
    }

    @Test
    void closingOneOfTwoReadOnlyHandlesKeepsTheSharedLock() throws Exception {
        HashIndex a = HashIndex.openReadOnly(path);
        try (HashIndex b = HashIndex.openReadOnly(path)) {
            a.close();
            assertThat(probe("probe-write")).as("a writer process while one reader is left").isEqualTo("LOCKED");
            assertThat(probe("probe-read")).as("a reader process").isEqualTo("opened");
            assertThat(b.get(key16(1))).isEqualTo(value16(1, 0));
        }
        assertThat(probe("probe-write")).isEqualTo("opened");
    }

    // ---------------------------------------------------------------- another process

    @Test
    void anotherProcessWritingLocksUsOutUntilItCloses() throws Exception {
        Process child = start("hold-write");
        try {
            BufferedReader out = reader(child);
            assertThat(out.readLine()).as("child: %s", stderr()).isEqualTo("locked");
            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "another process has the file open");
            assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "another process has the file open for writing");
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
    void anotherProcessReadingKeepsWritersOutButLetsReadersIn() throws Exception {
        Process child = start("hold-read");
        try {
            BufferedReader out = reader(child);
            assertThat(out.readLine()).as("child: %s", stderr()).isEqualTo("locked");
            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "another process has the file open");
            try (HashIndex ro = HashIndex.openReadOnly(path)) {
                assertThat(ro.get(key16(1))).isEqualTo(value16(1, 0));
            }
            assertFails(() -> HashIndex.open(path), HashIndexException.Locked.class, Code.LOCKED, path,
                    "another process has the file open");
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
    void aWriterHereLocksOutAnotherProcess() throws Exception {
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(probe("probe-write")).isEqualTo("LOCKED");
            assertThat(probe("probe-read")).isEqualTo("LOCKED");
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

    /**
     * Starts {@link LockHolder} in a new JVM (the java binary of this one). Surefire runs these tests
     * on the module path with the test classes patched in; the child gets one plain class path made of
     * the directories or jars holding LockHolder and HashIndex, this JVM's class path and its module path.
     */
    private Process start(String mode) throws IOException, URISyntaxException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Set<String> classPath = new LinkedHashSet<>();
        classPath.add(codeRoot(LockHolder.class));
        classPath.add(codeRoot(HashIndex.class));
        for (String property : List.of("java.class.path", "jdk.module.path")) {
            String value = System.getProperty(property);
            if (value != null) {
                for (String entry : value.split(File.pathSeparator)) {
                    if (!entry.isBlank()) {
                        classPath.add(entry);
                    }
                }
            }
        }
        List<String> command = new ArrayList<>(List.of(java, "-Xmx64m", "-cp", String.join(File.pathSeparator, classPath),
                LockHolder.class.getName(), mode, path.toString()));
        return new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.to(stderrFile().toFile()))
                .start();
    }

    /** The class path root (directory or jar) that a class was loaded from. */
    private static String codeRoot(Class<?> c) throws URISyntaxException {
        String resource = c.getSimpleName() + ".class";
        URL url = c.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("cannot locate " + resource);
        }
        String s = url.toString();
        if (s.startsWith("jar:")) {
            return Path.of(new java.net.URI(s.substring(4, s.indexOf("!/")))).toString();
        }
        Path classFile = Path.of(url.toURI());
        Path root = classFile;
        for (int i = 0; i < c.getName().split("\\.").length; i++) {
            root = root.getParent();
        }
        return root.toString();
    }
}

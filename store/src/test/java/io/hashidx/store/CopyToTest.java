package io.hashidx.store;

import static io.hashidx.store.Fixtures.assertFails;
import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndexException.Code;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HashIndex#copyTo}: point in time from the writer or with no writer, live beside a writer process. */
class CopyToTest {
    @TempDir
    Path dir;

    @Test
    void theWriterCopiesThePointInTimeItHoldsItsWritesFor() throws Exception {
        Path path = dir.resolve("w.hidx");
        Path out = dir.resolve("copy.hidx");
        try (HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(21))) {
            for (int k = 0; k < 20_000; k++) {
                w.put(key16(k), value16(k, 0));
            }
            while (!w.table().h.growing()) {
                w.put(key16(w.size()), value16(w.size(), 0));
            }
            long n = w.size();
            HashIndex.CopyResult r = w.copyTo(out);
            assertThat(r.pointInTime()).isTrue();
            assertThat(r.entries()).isEqualTo(n);
            assertThat(r.fileBytes()).isEqualTo(Files.size(out));
            w.put(key16(n), value16(n, 0)); // after the copy: not in it
            assertFails(() -> w.copyTo(out), HashIndexException.State.class, Code.INVALID_ARGUMENT, out, "already exists");
            try (HashIndex c = HashIndex.openReadOnly(out)) {
                assertThat(c.size()).isEqualTo(n);
                assertThat(c.get(key16(n))).isNull();
                for (int k = 0; k < n; k++) {
                    assertThat(c.get(key16(k))).isEqualTo(value16(k, 0));
                }
                assertThat(c.verify()).isEmpty();
                assertThat(c.table().h.growing()).as("mid-growth, as the source was").isTrue();
            }
        }
        assertNoTemporaryFiles();
    }

    @Test
    void aReaderWithNoWriterCopiesThePointInTime() {
        Path path = dir.resolve("r.hidx");
        try (HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(22))) {
            for (int k = 0; k < 5_000; k++) {
                w.put(key16(k), value16(k, 1));
            }
        }
        Path out = dir.resolve("copy.hidx");
        try (HashIndex r = HashIndex.openReadOnly(path)) {
            HashIndex.CopyResult c = r.copyTo(out);
            assertThat(c.pointInTime()).isTrue();
            assertThat(c.entries()).isEqualTo(5_000);
        }
        byte[] copy = contents(out);
        // the bytes up to the end of the last allocated cell; the source's zeros reserved for growth stay behind
        assertThat(copy).isEqualTo(java.util.Arrays.copyOf(contents(path), copy.length));
        try (HashIndex c = HashIndex.open(out)) {
            assertThat(c.verify()).isEmpty();
        }
    }

    /**
     * A reader process copies while this process writes: stable keys (never written during the copy)
     * must be in the copy with their values; churned keys (overwritten, removed, inserted during the
     * copy) may be in it, but only with a value they had.
     */
    @Test
    void aReaderProcessCopiesLiveWhileThisProcessWrites() throws Exception {
        liveCopy(false);
    }

    /**
     * The same on a variable-length file (keys and values in and out of line): the live copy is put into a
     * new variable-length file (the bulk builder is fixed-width only), which verifies and holds the same.
     */
    @Test
    void aReaderProcessCopiesAVariableLengthFileLiveWhileThisProcessWrites() throws Exception {
        liveCopy(true);
    }

    private static byte[] key(long k, boolean variable) {
        return variable ? ReaderProcess.vkey(k) : key16(k);
    }

    private static byte[] value(long k, int version, boolean variable) {
        return variable ? ReaderProcess.vvalue(k, version) : value16(k, version);
    }

    private void liveCopy(boolean variable) throws Exception {
        Path path = dir.resolve(variable ? "variable-live.hidx" : "live.hidx");
        Path out = dir.resolve(variable ? "variable-live-copy.hidx" : "live-copy.hidx");
        int stable = 30_000;
        int churn = 5_000;
        Map<Long, Integer> maxVersion = new HashMap<>();
        try (HashIndex w = HashIndex.create(path, (variable ? Options.variableLengths() : Options.widths(16, 16)).seed(23))) {
            for (long k = 0; k < stable + churn; k++) {
                w.put(key(k, variable), value(k, 0, variable));
                maxVersion.put(k, 0);
            }
            List<String> command = new ArrayList<>(List.of(ChildJvm.java(), "-Xmx128m", "-cp",
                    ChildJvm.classPath(ReaderProcess.class), ReaderProcess.class.getName(), "copy", path.toString(),
                    out.toString()));
            Path stderr = dir.resolve("copy-stderr.txt");
            Process child = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
            try {
                BufferedReader from = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                PrintWriter to = new PrintWriter(new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8), true);
                assertThat(from.readLine()).as("stderr: %s", Files.readString(stderr)).isEqualTo("ready");
                to.println("go");
                CompletableFuture<String> copied = CompletableFuture.supplyAsync(() -> {
                    try {
                        return from.readLine();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                long next = stable + churn;
                int version = 0;
                long writes = 0;
                while (!copied.isDone()) {
                    version++;
                    for (long k = stable; k < stable + churn; k += 3) {
                        long key = k + (version % 3);
                        if (version % 4 == 0) {
                            w.remove(key(key, variable));
                        } else {
                            w.put(key(key, variable), value(key, version, variable));
                            maxVersion.merge(key, version, Math::max);
                        }
                        writes++;
                    }
                    for (int i = 0; i < 500; i++, next++) {
                        w.put(key(next, variable), value(next, version, variable)); // the file grows while the copy runs
                        maxVersion.put(next, version);
                        writes++;
                    }
                }
                String line = copied.get();
                assertThat(line).as("stderr: %s", Files.readString(stderr)).startsWith("copied false ");
                assertThat(child.waitFor()).isZero();
                System.out.println("CopyToTest" + (variable ? " (variable lengths)" : "") + ": " + writes + " writes during a live copy; " + line);
                assertThat(writes).as("the copy ran while this process wrote").isPositive();
            } finally {
                child.destroyForcibly();
            }
        }
        assertNoTemporaryFiles();
        try (HashIndex c = HashIndex.openReadOnly(out)) {
            assertThat(c.verify()).isEmpty();
            assertThat(c.variableLengths()).isEqualTo(variable);
            for (long k = 0; k < stable; k++) {
                assertThat(c.get(key(k, variable))).as("stable key %d", k).isEqualTo(value(k, 0, variable));
            }
            for (var it = c.iterator(); it.hasNext(); ) {
                var e = it.next();
                long k = java.nio.ByteBuffer.wrap(e.getKey()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                assertThat(maxVersion).as("key %d was written", k).containsKey(k);
                assertThat(e.getKey()).isEqualTo(key(k, variable));
                boolean held = false;
                for (int v = 0; v <= maxVersion.get(k) && !held; v++) {
                    held = java.util.Arrays.equals(e.getValue(), value(k, v, variable));
                }
                assertThat(held).as("key %d holds a value it had", k).isTrue();
            }
        }
    }

    private void assertNoTemporaryFiles() {
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".bulk-"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] contents(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

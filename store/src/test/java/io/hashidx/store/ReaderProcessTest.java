package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer here, a reader in another JVM ({@link ReaderProcess}), on the same file at the same time:
 * the reader follows growth and file extension and never sees a torn or stale value; arrays it may
 * still read are not reused until it moves on or dies (FORMAT.md section 11).
 */
class ReaderProcessTest {
    /** Keys the reader looks up; the writer never removes them and overwrites them once per step. */
    private static final int KNOWN = 2_000;
    private static final int STEPS = 12;
    /** New keys per step: enough that the file doubles about seven times over the steps. */
    private static final int NEW_PER_STEP = 15_000;

    @TempDir
    Path dir;
    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void killChildren() {
        children.forEach(Process::destroyForcibly);
    }

    /**
     * Three rounds (seeds 11, 12, 13), each on a new file: a race a round misses (a lookup between its
     * check of the epoch and its read, while a growth starts and evacuates the bucket) gets more chances.
     */
    @Test
    void aReaderProcessFollowsAWriterThroughDoublingsAndSeesEveryValueWhole() throws Exception {
        for (int seed = 11; seed <= 13; seed++) {
            followThroughDoublings(seed);
        }
    }

    private void followThroughDoublings(int seed) throws Exception {
        Path path = dir.resolve("shared-" + seed + ".hidx");
        try (HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(seed))) {
            for (int k = 0; k < KNOWN; k++) {
                w.put(key16(k), ReaderProcess.value(k, 0));
            }
            long doublingsAtStart = w.table().h.doublings;
            long bytesAtStart = Files.size(path);
            Child reader = start("lookups", path.toString(), Integer.toString(KNOWN), Integer.toString(STEPS + 1));
            assertThat(reader.line()).isEqualTo("ready");
            long next = 1_000_000;
            for (int step = 1; step <= STEPS; step++) {
                for (int i = 0; i < NEW_PER_STEP; i++) {
                    w.put(key16(next + i), Fixtures.value16(next + i, step));
                    if (i % 8 == 0) {
                        // overwrites interleaved with the inserts (and so with the evacuations they cause)
                        int k = (i / 8) % KNOWN;
                        w.put(key16(k), ReaderProcess.value(k, step));
                    }
                }
                for (int k = 0; k < KNOWN; k++) {
                    w.put(key16(k), ReaderProcess.value(k, step));
                }
                for (int i = 0; i < NEW_PER_STEP; i += 2) {
                    w.remove(key16(next - NEW_PER_STEP + i));
                }
                next += NEW_PER_STEP;
                // the reader answers only after a whole pass over the known keys that began after this step
                reader.send("sync");
                String pass = reader.line();
                assertThat(pass).startsWith("pass ");
            }
            long doublings = w.table().h.doublings - doublingsAtStart;
            assertThat(doublings).as("doublings while the reader read").isGreaterThanOrEqualTo(5);
            assertThat(Files.size(path)).isGreaterThan(8 * bytesAtStart);
            reader.endInput();
            String done = reader.line();
            assertThat(done).startsWith("done ");
            assertThat(reader.exitCode()).isZero();
            // the reader saw the last doubling too
            assertThat(done).endsWith(" doublings " + w.table().h.doublings);
            System.out.println("ReaderProcessTest: seed " + seed + ": " + doublings + " doublings while a reader process "
                    + "checked; " + done);
            assertThat(w.verify()).isEmpty();
        }
    }

    /**
     * The same on a variable-length file (inline widths 16/16): a third of the keys and about half of the
     * values go out of line, and every overwrite and remove frees records whose cells later writes reuse,
     * while the reader process looks every known key up and iterates the whole file after each pass (so
     * it reads records inside its validated reads and finds moved-on out-of-line entries by their hash).
     */
    @Test
    void aReaderProcessFollowsAWriterOfAVariableLengthFileAndSeesEveryValueWhole() throws Exception {
        Path path = dir.resolve("variable.hidx");
        int known = 1_000;
        int steps = 8;
        int newPerStep = 8_000;
        try (HashIndex w = HashIndex.create(path, Options.variableLengths().seed(21))) {
            for (int k = 0; k < known; k++) {
                w.put(ReaderProcess.vkey(k), ReaderProcess.vvalue(k, 0));
            }
            long doublingsAtStart = w.table().h.doublings;
            Child reader = start("vlookups", path.toString(), Integer.toString(known), Integer.toString(steps + 1));
            assertThat(reader.line()).isEqualTo("ready");
            long next = 1_000_000;
            for (int step = 1; step <= steps; step++) {
                for (int i = 0; i < newPerStep; i++) {
                    w.put(ReaderProcess.vkey(next + i), ReaderProcess.vvalue(next + i, step));
                    if (i % 8 == 0) {
                        int k = (i / 8) % known;
                        w.put(ReaderProcess.vkey(k), ReaderProcess.vvalue(k, step));
                    }
                }
                for (int k = 0; k < known; k++) {
                    w.put(ReaderProcess.vkey(k), ReaderProcess.vvalue(k, step));
                }
                for (int i = 0; i < newPerStep; i += 2) {
                    w.remove(ReaderProcess.vkey(next - newPerStep + i));
                }
                next += newPerStep;
                reader.send("sync");
                assertThat(reader.line()).startsWith("pass ");
            }
            long doublings = w.table().h.doublings - doublingsAtStart;
            assertThat(doublings).as("doublings while the reader read").isGreaterThanOrEqualTo(4);
            reader.endInput();
            String done = reader.line();
            assertThat(done).startsWith("done ");
            assertThat(reader.exitCode()).isZero();
            System.out.println("ReaderProcessTest (variable lengths): " + doublings + " doublings while a reader process "
                    + "checked; " + done + "; record cells " + w.table().h.recordCells);
            assertThat(w.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(w, "after the reader process");
        }
    }

    @Test
    void aReaderKilledWithSigkillLeavesASlotThatTheWriterCleansUp() throws Exception {
        Path path = dir.resolve("killed.hidx");
        try (HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(12))) {
            fill(w, 0, 1_000);
            Child reader = start("iterate", path.toString());
            assertThat(reader.line()).startsWith("iterating ");
            ReaderTable table = w.table().file.readers();
            assertThat(table.readers()).extracting(r -> r[1]).containsExactly(reader.process.pid());
            reader.process.destroyForcibly(); // SIGKILL: no close, no release of the slot
            reader.process.waitFor();
            assertThat(table.readers()).as("the dead reader's slot is still written").hasSize(1);

            growUntilRetired(w, 1_000);
            w.table().space.releaseRetired(false);
            assertThat(w.table().space.retiredArrays()).as("arrays the dead reader pinned").isZero();
            assertThat(table.readers()).as("slot cleaned up").isEmpty();
        }
    }

    @Test
    void anIteratorInAReaderProcessPinsTheOldArraysUntilItFinishes() throws Exception {
        Path path = dir.resolve("pinned.hidx");
        try (HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(13))) {
            long n = fill(w, 0, 1_000);
            Child reader = start("iterate", path.toString());
            String iterating = reader.line();
            assertThat(iterating).startsWith("iterating ");
            long pinned = Long.parseLong(iterating.substring("iterating ".length()));
            assertThat(pinned).isEqualTo(w.table().h.oldestReadable());

            n = growUntilRetired(w, n);
            n = growUntilRetired(w, n);
            w.table().space.releaseRetired(false);
            assertThat(w.table().space.retiredArrays()).as("arrays retired while the reader iterates").isEqualTo(2);
            assertThat(w.table().file.readers().oldestPin()).isEqualTo(pinned);

            reader.send("look"); // the reader reads the header again; its open iterator still pins
            assertThat(reader.line()).isEqualTo("looked");
            w.table().space.releaseRetired(false);
            assertThat(w.table().space.retiredArrays()).as("after the reader read the header again").isEqualTo(2);
            assertThat(w.table().file.readers().oldestPin()).isEqualTo(pinned);

            reader.send("finish");
            assertThat(reader.line()).startsWith("moved ");
            w.table().space.releaseRetired(false);
            assertThat(w.table().space.retiredArrays()).as("after the reader moved on").isZero();
            reader.endInput();
            assertThat(reader.line()).isEqualTo("closed");
            assertThat(reader.exitCode()).isZero();
            assertThat(w.table().file.readers().readers()).isEmpty();
            assertThat(w.verify()).isEmpty();
            assertThat(w.size()).isEqualTo(n);
        }
    }

    @Test
    void aReadOnlyOpenWithNoWriterReadsAFileLeftMidGrowth() {
        Path path = dir.resolve("alone.hidx");
        long n;
        try (HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(14))) {
            n = fill(w, 0, 5_000);
            while (!w.table().h.growing()) {
                w.put(key16(n), Fixtures.value16(n, 0));
                n++;
            }
            w.closeLeavingGrowth();
        }
        try (HashIndex r = HashIndex.openReadOnly(path)) {
            assertThat(r.size()).isEqualTo(n);
            for (long k = 0; k < n; k++) {
                assertThat(r.get(key16(k))).isEqualTo(Fixtures.value16(k, 0));
            }
            assertThat(r.verify()).isEmpty();
        }
    }

    /**
     * This process reads while a writer process grows the file and closes it: the arrays retired
     * meanwhile stay listed (this reader pins them), and verify and inspect here see them as they are now.
     */
    @Test
    void aReaderThatOutlivesTheWriterVerifiesTheFileAsTheWriterLeftIt() throws Exception {
        Path path = dir.resolve("outlived.hidx");
        try (HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(15))) {
            fill(w, 0, 1_000);
        }
        try (HashIndex r = HashIndex.openReadOnly(path)) {
            assertThat(r.get(key16(999))).isEqualTo(Fixtures.value16(999, 0));
            Child writer = start("write", path.toString(), "1000", "40000");
            assertThat(writer.line()).isEqualTo("written");
            assertThat(writer.exitCode()).isZero();
            assertThat(r.size()).isEqualTo(40_000);
            assertThat(r.verify()).isEmpty();
            assertThat(r.inspect().retiredPages()).as("arrays this reader pinned").isPositive();
            for (long k = 0; k < 40_000; k++) {
                assertThat(r.get(key16(k))).isEqualTo(Fixtures.value16(k, 0));
            }
        }
        try (HashIndex w = HashIndex.open(path)) {
            assertThat(w.inspect().retiredPages()).as("freed once the reader is gone").isZero();
            assertThat(w.verify()).isEmpty();
        }
    }

    /**
     * A writer was killed inside a bucket (its lane names it, its version odd); this process opens the
     * file read-only while no writer is there, so it reads that bucket without waiting for the version to
     * become even. Then a writer process opens the file (which repairs the version without changing
     * the header: this reader's view stays current) and begins a new write in that bucket, writing bytes
     * into the key's slot while the version is odd. A lookup here must not return them: before the fix it
     * took any odd version of that bucket for the dead writer's and returned the bytes read inside the
     * write (validation passes: the version does not change while it is odd).
     */
    @Test
    void aReaderDoesNotTakeANewWritersOddVersionForTheDeadWritersOne() throws Exception {
        long seed = 16;
        Path path = dir.resolve("deadodd.hidx");
        long k = 7;
        HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(seed));
        fill(w, 0, 1_000);
        Table t = w.table();
        assertThat(t.h.growing()).isFalse();
        long bucket = t.h.bucketsCell + Hashing.bucketIndex(Hashing.hash(key16(k), t.h.seed), t.h.bucketCount);
        Header.nameLaneBuckets(t.file.header(), 2, bucket, BucketLayout.NONE, BucketLayout.NONE);
        t.layout.setVersion(bucket, t.layout.version(bucket) + 1);
        w.closeLeavingGrowth(); // as a kill inside the bucket leaves it
        try (HashIndex r = HashIndex.openReadOnly(path)) {
            assertThat(r.get(key16(k))).as("seed %d: read through the dead writer's odd version", seed)
                    .isEqualTo(Fixtures.value16(k, 0));
            Child writer = start("oddwindow", path.toString(), Long.toString(k));
            assertThat(writer.line()).isEqualTo("open");
            assertThat(r.table().stale()).as("seed %d: the writer's open left the header as it was", seed).isFalse();
            writer.send("write");
            assertThat(writer.line()).isEqualTo("odd");
            long retriesBefore = r.table().oddVersionRetries.sum();
            java.util.concurrent.CompletableFuture<byte[]> lookup =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> r.get(key16(k)));
            // the lookup is inside the write once it has met the odd version (the fixed reader) or has
            // returned (a reader that read through the odd version): wait for either, not for a time
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!lookup.isDone() && r.table().oddVersionRetries.sum() == retriesBefore) {
                assertThat(System.nanoTime()).as("seed %d: the lookup neither waited nor returned", seed)
                        .isLessThan(deadline);
                Thread.onSpinWait();
            }
            writer.send("finish");
            assertThat(writer.line()).isEqualTo("even");
            byte[] got = lookup.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(got).as("seed %d: a lookup that began inside the new write (not its bytes read while odd)", seed)
                    .isIn(Fixtures.value16(k, 0), Fixtures.value16(k, 2));
            assertThat(r.get(key16(k))).isEqualTo(Fixtures.value16(k, 2));
            writer.endInput();
            assertThat(writer.line()).isEqualTo("closed");
            assertThat(writer.exitCode()).isZero();
        }
    }

    /**
     * A writer was killed in the middle of an overwrite of key K in lane 0 (the new image in the lane's
     * journal slot, the intent written, the slot not copied yet; the bucket's version even): this process
     * opens the file read-only while no writer is there and reads K from the journal image. While a
     * lookup of K is inside its read (it has taken the image as K's slot), a writer process opens the file
     * (replaying K's overwrite, storing the header) and overwrites another key K2, in another bucket,
     * through lane 0 (a lone writer's): the journal slot now holds K2. Before the fix the lookup
     * validated (K's bucket version and the epoch did not change) and returned K2's value for K.
     */
    @Test
    void aReaderDoesNotReturnAJournalImageThatANewWriterReused() throws Exception {
        long seed = 17;
        int lane = 0;
        Path path = dir.resolve("image.hidx");
        long k = 7;
        HashIndex w = HashIndex.create(path, Options.widths(16, 16).seed(seed));
        fill(w, 0, 1_000);
        Table t = w.table();
        assertThat(t.h.growing()).isFalse();
        long k2 = k + 1;
        while (bucketOf(t, k2) == bucketOf(t, k)) {
            k2++;
        }
        java.lang.foreign.MemorySegment page = t.file.header();
        long ref = t.find(key16(k));
        t.layout.writeSlot(t.h.journalCell, lane, key16(k), Fixtures.value16(k, 1));
        Header.beginLaneIntent(page, lane, Header.INTENT_OVERWRITE, ref, Header.laneCount(page, lane));
        w.closeLeavingGrowth(); // as a kill after the intent, before the copy, leaves it
        try (HashIndex r = HashIndex.openReadOnly(path)) {
            assertThat(r.get(key16(k))).as("seed %d: K read from the journal image", seed)
                    .isEqualTo(Fixtures.value16(k, 1));
            Child writer = start("overwrite", path.toString(), Long.toString(k2));
            assertThat(writer.line()).isEqualTo("started");
            boolean[] paused = {false};
            byte[] got = r.table().lookup(key16(k), null, (tt, found, dest) -> {
                if (!paused[0]) {
                    paused[0] = true;
                    try {
                        writer.send("open and overwrite");
                        assertThat(writer.line()).isEqualTo("overwritten");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                return found < 0 ? null : tt.value(found);
            });
            assertThat(paused[0]).isTrue();
            assertThat(got).as("seed %d: K's value (not K2's, which the journal slot holds now)", seed)
                    .isEqualTo(Fixtures.value16(k, 1));
            assertThat(r.get(key16(k2))).isEqualTo(Fixtures.value16(k2, 5));
            writer.endInput();
            assertThat(writer.line()).isEqualTo("closed");
            assertThat(writer.exitCode()).isZero();
        }
    }

    private static long bucketOf(Table t, long k) {
        return Hashing.bucketIndex(Hashing.hash(key16(k), t.h.seed), t.h.bucketCount);
    }

    // ---------------------------------------------------------------- helpers

    private static long fill(HashIndex w, long from, long count) {
        for (long k = from; k < from + count; k++) {
            w.put(key16(k), Fixtures.value16(k, 0));
        }
        w.finishGrowth();
        return from + count;
    }

    /** Inserts new keys from {@code n} until a growth has started and ended; returns the next key. */
    private static long growUntilRetired(HashIndex w, long n) {
        long growths = w.table().h.growths();
        while (w.table().h.growths() == growths || w.table().h.growing()) {
            w.put(key16(n), Fixtures.value16(n, 0));
            n++;
        }
        return n;
    }

    private Child start(String... args) throws IOException, URISyntaxException {
        List<String> command = new ArrayList<>(List.of(ChildJvm.java(), "-Xmx128m", "-cp",
                ChildJvm.classPath(ReaderProcess.class), ReaderProcess.class.getName()));
        command.addAll(List.of(args));
        Path stderr = dir.resolve("child-" + children.size() + "-stderr.txt");
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(stderr.toFile())).start();
        children.add(p);
        return new Child(p, stderr);
    }

    private record Child(Process process, Path stderr, BufferedReader out, PrintWriter in) {
        Child(Process process, Path stderr) {
            this(process, stderr,
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)),
                    new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true));
        }

        String line() throws IOException {
            String line = out.readLine();
            assertThat(line).as("reader process output; stderr: %s", Files.readString(stderr)).isNotNull();
            assertThat(line).as("reader process; stderr: %s", Files.readString(stderr)).doesNotStartWith("BAD");
            return line;
        }

        void send(String line) {
            in.println(line);
        }

        void endInput() {
            in.close();
        }

        int exitCode() throws InterruptedException {
            return process.waitFor();
        }
    }
}

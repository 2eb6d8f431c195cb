package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BulkBuilderTest {
    private static final long SEED = 0x5EED_B01CL;

    @TempDir
    Path dir;

    /** Random entries, about one in eight a repeat of an earlier key with a new value. */
    private static List<byte[][]> entries(int n, long seed, int maxKey, int maxValue) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<byte[][]> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] key;
            if (i > 0 && rnd.nextInt(8) == 0) {
                key = list.get(rnd.nextInt(i))[0];
            } else {
                key = new byte[rnd.nextInt(maxKey + 1)];
                rnd.nextBytes(key);
            }
            byte[] value = new byte[rnd.nextInt(maxValue + 1)];
            rnd.nextBytes(value);
            list.add(new byte[][] {key, value});
        }
        return list;
    }

    private static Map<Bytes, byte[]> model(List<byte[][]> entries) {
        Map<Bytes, byte[]> m = new LinkedHashMap<>();
        for (byte[][] e : entries) {
            m.put(Bytes.of(e[0]), e[1]);
        }
        return m;
    }

    private static BulkBuilder.Result bulk(Path path, Options options, long memory, List<byte[][]> entries) {
        try (BulkBuilder b = HashIndex.bulkBuilder(path, options).memory(memory)) {
            for (byte[][] e : entries) {
                b.add(e[0], e[1]);
            }
            return b.build();
        }
    }

    private static void puts(Path path, Options options, List<byte[][]> entries) {
        try (HashIndex idx = HashIndex.create(path, options)) {
            for (byte[][] e : entries) {
                idx.put(e[0], e[1]);
            }
        }
    }

    private List<String> leftovers() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.contains(BulkFiles.MARK)).toList();
        }
    }

    /**
     * The bulk-built file and a presized file built by puts with the same seed agree on everything
     * but the order within buckets: entries, geometry, occupancy and chain histograms, overflow
     * and free pages, file size; both verify clean and account for every cell.
     */
    private void assertSameAsPutBuilt(Options options, long memory, List<byte[][]> entries) throws IOException {
        Path bulkPath = dir.resolve("bulk.hidx");
        Path putPath = dir.resolve("put.hidx");
        BulkBuilder.Result r = bulk(bulkPath, options, memory, entries);
        puts(putPath, options.expectedEntries(Math.max(options.expectedEntries(), entries.size())), entries);
        Map<Bytes, byte[]> model = model(entries);
        assertThat(r.added()).isEqualTo(entries.size());
        assertThat(r.entries()).isEqualTo(model.size());
        assertThat(r.replaced()).isEqualTo(entries.size() - model.size());
        assertThat(r.fileBytes()).isEqualTo(Files.size(bulkPath));
        try (HashIndex bulk = HashIndex.openReadOnly(bulkPath); HashIndex put = HashIndex.openReadOnly(putPath)) {
            assertThat(bulk.verify()).isEmpty();
            assertThat(put.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(bulk, "bulk");
            Fixtures.assertHoldsExactly(bulk, model, 1, "bulk");
            Fixtures.assertHoldsExactly(put, model, 1, "put");
            assertThat(bulk.seed()).isEqualTo(put.seed()).isEqualTo(SEED);
            Inspection b = bulk.inspect();
            Inspection p = put.inspect();
            assertThat(b.buckets()).isEqualTo(p.buckets()).isEqualTo(r.buckets());
            assertThat(b.keyWidth()).isEqualTo(p.keyWidth());
            assertThat(b.valueWidth()).isEqualTo(p.valueWidth());
            assertThat(b.entries()).isEqualTo(p.entries());
            assertThat(b.occupancy()).isEqualTo(p.occupancy());
            assertThat(b.chainLengths()).isEqualTo(p.chainLengths());
            assertThat(b.tophashCounts()).isEqualTo(p.tophashCounts());
            assertThat(b.overflowPages()).isEqualTo(p.overflowPages()).isEqualTo(r.overflowPages());
            assertThat(b.freePages()).isEqualTo(p.freePages());
            assertThat(b.allocatedPages()).isEqualTo(p.allocatedPages());
            assertThat(b.fileBytes()).isEqualTo(p.fileBytes());
            assertThat(b.doublings()).isZero();
            assertThat(b.copyA().valid()).isTrue();
            assertThat(b.copyB().valid()).isTrue();
        }
        assertThat(leftovers()).as("temporary files after the build").isEmpty();
    }

    @Test
    void bulkBuiltFileEqualsAPresizedFileBuiltByPutsWithTheSameSeed() throws IOException {
        assertSameAsPutBuilt(Options.widths(16, 16).seed(SEED), BulkBuilder.DEFAULT_MEMORY,
                entries(60_000, 1, 16, 16));
    }

    /** Slices of one shared buffer, as a reader hands over its input: the same file as whole arrays. */
    @Test
    void entriesAddedAsSlicesOfASharedBufferGiveTheSameFileAsArrays() throws IOException {
        List<byte[][]> entries = entries(30_000, 5, 16, 16);
        Path arrays = dir.resolve("arrays.hidx");
        Path slices = dir.resolve("slices.hidx");
        bulk(arrays, Options.widths(16, 16).seed(SEED), BulkBuilder.MIN_MEMORY, entries);
        byte[] shared = new byte[100];
        try (BulkBuilder b = HashIndex.bulkBuilder(slices, Options.widths(16, 16).seed(SEED)).memory(BulkBuilder.MIN_MEMORY)) {
            int at = 0;
            for (byte[][] e : entries) {
                at = (at + 7) % 50;
                java.util.Arrays.fill(shared, (byte) 0x5A);
                System.arraycopy(e[0], 0, shared, at, e[0].length);
                System.arraycopy(e[1], 0, shared, at + e[0].length + 1, e[1].length);
                b.add(shared, at, e[0].length, shared, at + e[0].length + 1, e[1].length);
            }
            assertThatThrownBy(() -> b.add(shared, 90, 16, shared, 0, 0)).isInstanceOf(IndexOutOfBoundsException.class);
            b.build();
        }
        assertThat(Files.mismatch(arrays, slices)).as("first differing byte").isEqualTo(-1);
    }

    /**
     * The index written the direct way (whole blocks from two alternating buffers per stream, the
     * blocks the two streams share and the file's last block through the page cache at the end) is
     * byte for byte the file written through the page cache alone: files of one block or less, streams
     * that start and end inside blocks, chunk padding, cells larger than a buffer's default size,
     * overflow chains, the free run, spilled runs and out-of-line records. With O_DIRECT where the
     * file system of the temporary directory takes it, and with the same arithmetic through an
     * ordinary channel for blocks of 512 and 4096 bytes on any file system.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "block {0} (0: the file system's, with O_DIRECT)")
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 512, 4096})
    void directAndBufferedWritesGiveByteIdenticalFiles(int plainBlock) throws IOException {
        if (plainBlock == 0) {
            BulkFiles probeFiles = BulkFiles.forTarget(dir.resolve("probe.hidx"));
            FileLocks.Handle handle = FileLocks.acquireTemporary(probeFiles.temp, true);
            try {
                org.junit.jupiter.api.Assumptions.assumeTrue(probeFiles.openDirect(handle).usable(),
                        "the file system of " + dir + " takes no O_DIRECT");
            } finally {
                handle.release();
                Files.delete(probeFiles.temp);
            }
        }
        record Case(String name, Options options, long memory, List<byte[][]> entries) {
        }
        List<byte[][]> varying = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int i = 0; i < 3000; i++) {
            byte[] key = new byte[1 + rnd.nextInt(40)];
            rnd.nextBytes(key);
            byte[] value = new byte[rnd.nextInt(20) == 0 ? 5000 + rnd.nextInt(20_000) : rnd.nextInt(30)];
            rnd.nextBytes(value);
            varying.add(new byte[][] {key, value});
        }
        List<Case> cases = List.of(
                new Case("empty", Options.widths(16, 16).seed(SEED), BulkBuilder.MIN_MEMORY, List.of()),
                new Case("one entry", Options.widths(4, 4).seed(SEED), BulkBuilder.MIN_MEMORY, entries(1, 6, 4, 4)),
                new Case("60,000 of 16/16", Options.widths(16, 16).seed(SEED), BulkBuilder.DEFAULT_MEMORY,
                        entries(60_000, 1, 16, 16)),
                new Case("spilled runs", Options.widths(12, 20).seed(SEED), BulkBuilder.MIN_MEMORY,
                        entries(200_000, 2, 12, 20)),
                new Case("8 KiB chunks", Options.widths(16, 16).seed(SEED).chunkSize(8192), BulkBuilder.MIN_MEMORY,
                        entries(20_000, 3, 16, 16)),
                new Case("free run", Options.widths(8, 8).seed(SEED).expectedEntries(50_000), BulkBuilder.MIN_MEMORY,
                        entries(1000, 4, 8, 8)),
                new Case("cells of 560 KB", Options.widths(300, 70_000).seed(SEED), 16L << 20,
                        entries(300, 5, 300, 70_000)),
                new Case("out-of-line records", Options.variableLengths().seed(SEED), BulkBuilder.MIN_MEMORY, varying));
        int previousBlock = BulkFiles.plainBlockForTests;
        boolean previousDirect = BulkFiles.directIo;
        for (Case c : cases) {
            Path direct = dir.resolve("direct.hidx");
            BulkFiles.plainBlockForTests = plainBlock;
            Path buffered = dir.resolve("buffered.hidx");
            try (BulkBuilder b = HashIndex.bulkBuilder(direct, c.options).memory(c.memory)) {
                for (byte[][] e : c.entries) {
                    b.add(e[0], e[1]);
                }
                b.build();
                assertThat(b.wroteDirect()).as(c.name + ": written the direct way").isTrue();
            } finally {
                BulkFiles.plainBlockForTests = previousBlock;
            }
            BulkFiles.directIo = false;
            try {
                bulk(buffered, c.options, c.memory, c.entries);
            } finally {
                BulkFiles.directIo = previousDirect;
            }
            assertThat(Files.mismatch(direct, buffered)).as(c.name).isEqualTo(-1L);
            try (HashIndex idx = HashIndex.openReadOnly(direct)) {
                assertThat(idx.verify()).as(c.name).isEmpty();
                Fixtures.assertHoldsExactly(idx, model(c.entries), 1, c.name);
            }
            Files.delete(direct);
            Files.delete(buffered);
        }
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void manyRunsSpilledUnderTheSmallestMemoryBudgetGiveTheSameFile() throws IOException {
        // 4 MiB: runs of 1.5 MiB, so 200,000 records of up to 40 bytes spill about five runs
        assertSameAsPutBuilt(Options.widths(12, 20).seed(SEED), BulkBuilder.MIN_MEMORY, entries(200_000, 2, 12, 20));
    }

    @Test
    void smallChunksPutUnusedBytesAtEveryChunkEndAsPutsDo() throws IOException {
        // 8 KiB chunks hold 25 cells of 320 bytes and 192 unused bytes each
        assertSameAsPutBuilt(Options.widths(16, 16).seed(SEED).chunkSize(8192), BulkBuilder.MIN_MEMORY,
                entries(20_000, 3, 16, 16));
    }

    @Test
    void expectedEntriesAboveTheRecordsPresizeForTheExpectedCount() throws IOException {
        assertSameAsPutBuilt(Options.widths(8, 8).seed(SEED).expectedEntries(50_000), BulkBuilder.MIN_MEMORY,
                entries(1000, 4, 8, 8));
    }

    @Test
    void longKeysAndValuesUseWiderLengthFields() throws IOException {
        assertSameAsPutBuilt(Options.widths(300, 70_000).seed(SEED), 16L << 20, entries(300, 5, 300, 70_000));
    }

    @Test
    void largeRecordsAmongSmallOnesKeepTheirOrder() throws IOException {
        // every 7th record is larger than a block of the smallest budget's runs (64 KiB and more),
        // so it spans blocks; keys repeat, so the last one added must win whatever its size
        java.util.SplittableRandom random = new java.util.SplittableRandom(SEED);
        List<byte[][]> entries = new java.util.ArrayList<>();
        for (int i = 0; i < 600; i++) {
            byte[] key = new byte[8];
            java.nio.ByteBuffer.wrap(key).putLong(random.nextInt(150));
            byte[] value = new byte[i % 7 == 0 ? random.nextInt(65_536, 200_000) : random.nextInt(0, 40)];
            random.nextBytes(value);
            entries.add(new byte[][] {key, value});
        }
        assertSameAsPutBuilt(Options.widths(8, 200_000).seed(SEED), BulkBuilder.MIN_MEMORY, entries);
    }

    @Test
    void fewerRecordsThanPartitionsAndOneBucketPerManyPartitions() throws IOException {
        assertSameAsPutBuilt(Options.widths(4, 4).seed(SEED), BulkBuilder.MIN_MEMORY, entries(20, 6, 4, 4));
        Files.delete(dir.resolve("bulk.hidx"));
        Files.delete(dir.resolve("put.hidx"));
        assertSameAsPutBuilt(Options.widths(4, 4).seed(SEED), BulkBuilder.MIN_MEMORY, entries(1, 6, 4, 4));
    }

    @Test
    void noRecordsGiveTheFileCreateWritesWithoutExpectedEntries() throws IOException {
        assertSameAsPutBuilt(Options.widths(16, 16).seed(SEED), BulkBuilder.MIN_MEMORY, List.of());
        assertThat(Files.size(dir.resolve("bulk.hidx"))).isEqualTo(4096 + 2 * 320);
    }

    @Test
    void duplicateKeysTheLastOneAddedWinsAlsoAcrossRuns() throws IOException {
        Path path = dir.resolve("dups.hidx");
        int keys = 1000;
        int rounds = 300; // 300,000 records of 40 bytes: several runs at 4 MiB
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(16, 16).seed(SEED)).memory(BulkBuilder.MIN_MEMORY)) {
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < keys; k++) {
                    b.add(Fixtures.key16(k), Fixtures.value16(k, round));
                }
            }
            b.add(Fixtures.key16(7), new byte[0]);
            BulkBuilder.Result r = b.build();
            assertThat(r.entries()).isEqualTo(keys);
            assertThat(r.replaced()).isEqualTo((long) keys * rounds + 1 - keys);
            assertThat(r.buckets()).as("presized for the records added").isEqualTo(Table.bucketsFor(keys * rounds + 1L));
        }
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.verify()).isEmpty();
            assertThat(idx.size()).isEqualTo(keys);
            for (int k = 0; k < keys; k++) {
                assertThat(idx.get(Fixtures.key16(k))).as("key %d", k)
                        .isEqualTo(k == 7 ? new byte[0] : Fixtures.value16(k, rounds - 1));
            }
        }
    }

    @Test
    void recordsThatFitInTwoRunsAreNeverSpilledToARunFile() throws IOException {
        // with 64 MiB, a run holds about 672,000 records of 34 bytes: a million fill one and a half
        Path path = dir.resolve("two-runs.hidx");
        List<String> seen = new java.util.ArrayList<>();
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(16, 16).seed(SEED)).memory(64L << 20)
                .progress((phase, done, total) -> {
                    try {
                        seen.addAll(leftovers());
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })) {
            for (long i = 0; i < 1_000_000; i++) {
                b.add(Fixtures.key16(i), Fixtures.value16(i, 0));
            }
            assertThat(b.build().entries()).isEqualTo(1_000_000);
        }
        assertThat(seen).as("temporary files seen during the build").isNotEmpty().noneMatch(n -> n.contains(".run-"));
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.verify()).isEmpty();
            assertThat(idx.get(Fixtures.key16(999_999))).isEqualTo(Fixtures.value16(999_999, 0));
        }
    }

    @Test
    void oneKeyRepeatedAMillionTimesStaysLinear() {
        Path path = dir.resolve("hot.hidx");
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(8, 8).seed(SEED)).memory(16L << 20)) {
            byte[] hot = "hot".getBytes();
            for (int i = 0; i < 1_000_000; i++) {
                b.add(hot, Long.toString(i).getBytes());
                if (i % 1000 == 0) {
                    b.add(Long.toString(i).getBytes(), hot);
                }
            }
            assertThat(b.build().entries()).isEqualTo(1001);
        }
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.get("hot".getBytes())).isEqualTo("999999".getBytes());
            assertThat(idx.verify()).isEmpty();
        }
    }

    @Test
    void fitWidthsGivesTheFileTheLongestKeyAndValueAdded() {
        Path path = dir.resolve("fit.hidx");
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(Options.MAX_KEY_WIDTH, 100).seed(SEED))
                .fitWidths(true, false)) {
            b.add("abc".getBytes(), "1".getBytes());
            b.add("abcdefg".getBytes(), "12".getBytes());
            b.add(new byte[0], "empty key".getBytes());
            BulkBuilder.Result r = b.build();
            assertThat(r.keyWidth()).isEqualTo(7);
            assertThat(r.valueWidth()).isEqualTo(100);
        }
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.keyWidth()).isEqualTo(7);
            assertThat(idx.valueWidth()).isEqualTo(100);
            assertThat(idx.get(new byte[0])).isEqualTo("empty key".getBytes());
            assertThat(idx.verify()).isEmpty();
        }
    }

    @Test
    void theBuiltFileTakesPutsAndGrowsLikeAnyOther() {
        Path path = dir.resolve("grow.hidx");
        List<byte[][]> first = entries(5000, 7, 16, 16);
        bulk(path, Options.widths(16, 16).seed(SEED), BulkBuilder.MIN_MEMORY, first);
        Map<Bytes, byte[]> model = new HashMap<>(model(first));
        try (HashIndex idx = HashIndex.open(path)) {
            for (byte[][] e : entries(40_000, 8, 16, 16)) {
                idx.put(e[0], e[1]);
                model.put(Bytes.of(e[0]), e[1]);
            }
            idx.finishGrowth();
            assertThat(idx.inspect().doublings()).isPositive();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 2, "after puts");
        }
    }

    @Test
    void progressGoesThroughPartitioningThenWritingAndReportsTheEndOnceBeforeTheFileIsNamed() {
        Path path = dir.resolve("progress.hidx");
        List<String> events = new ArrayList<>();
        long[] lastDone = {-1};
        boolean[] namedAtTheEnd = {true};
        BulkBuilder.Result r;
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(16, 16)).memory(BulkBuilder.MIN_MEMORY)
                .progress((phase, done, total) -> {
                    if (events.isEmpty() || !events.getLast().startsWith(phase)) {
                        events.add(phase);
                        lastDone[0] = -1;
                    }
                    assertThat(done).as("%s progresses", phase).isGreaterThanOrEqualTo(lastDone[0]).isLessThanOrEqualTo(total);
                    lastDone[0] = done;
                    if (phase.equals("writing") && done == total) {
                        events.add("writing done");
                        namedAtTheEnd[0] = !Files.exists(path);
                    }
                })) {
            for (long i = 0; i < 300_000; i++) {
                b.add(Fixtures.key16(i), Fixtures.value16(i, 0));
            }
            r = b.build();
        }
        assertThat(events).containsExactly("partitioning", "writing", "writing done");
        assertThat(namedAtTheEnd[0]).as("the file has no name yet when the end is reported").isTrue();
        assertThat(r.buckets()).isEqualTo(Table.bucketsFor(300_000));
        assertThat(path).exists();
    }

    @Test
    void anExistingTargetIsRefusedAndLeavesNothingBehind() throws IOException {
        Path path = dir.resolve("exists.hidx");
        Files.writeString(path, "not an index");
        Fixtures.assertFails(() -> HashIndex.bulkBuilder(path, Options.widths(4, 4)),
                HashIndexException.State.class, HashIndexException.Code.INVALID_ARGUMENT, path, "already exists");
        assertThat(leftovers()).isEmpty();
        assertThat(Files.readString(path)).isEqualTo("not an index");
    }

    @Test
    void aTargetCreatedDuringTheBuildIsNotReplaced() throws IOException {
        Path path = dir.resolve("race.hidx");
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(4, 4))) {
            b.add("k".getBytes(), "v".getBytes());
            Files.writeString(path, "created meanwhile");
            assertThatThrownBy(b::build).isInstanceOf(HashIndexException.State.class).hasMessageContaining("already exists");
        }
        assertThat(Files.readString(path)).isEqualTo("created meanwhile");
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void closingWithoutBuildingCreatesNothingAndDeletesTheRuns() throws IOException {
        Path path = dir.resolve("abandoned.hidx");
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(16, 16)).memory(BulkBuilder.MIN_MEMORY)) {
            for (long i = 0; i < 200_000; i++) {
                b.add(Fixtures.key16(i), Fixtures.value16(i, 0));
            }
            assertThat(leftovers()).as("runs spilled").hasSizeGreaterThan(2);
        }
        assertThat(path).doesNotExist();
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void tooLongKeysAndValuesAreRefusedWithTheirCodes() {
        Path path = dir.resolve("long.hidx");
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(4, 4))) {
            Fixtures.assertFails(() -> b.add(new byte[5], new byte[1]), HashIndexException.TooLong.class,
                    HashIndexException.Code.KEY_TOO_LONG, path, "key of 5 bytes");
            Fixtures.assertFails(() -> b.add(new byte[1], new byte[5]), HashIndexException.TooLong.class,
                    HashIndexException.Code.VALUE_TOO_LONG, path, "value of 5 bytes");
            b.add(new byte[4], new byte[4]);
            assertThat(b.build().entries()).isEqualTo(1);
            Fixtures.assertFails(() -> b.add(new byte[1], new byte[1]), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, path, "after build");
        }
    }

    @Test
    void memoryBudgetBelowTheMinimumOrAfterTheFirstAddIsRefused() {
        Path path = dir.resolve("m.hidx");
        try (BulkBuilder b = HashIndex.bulkBuilder(path, Options.widths(4, 4))) {
            Fixtures.assertFails(() -> b.memory(1 << 20), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, path, "below the minimum");
            b.add(new byte[1], new byte[1]);
            Fixtures.assertFails(() -> b.memory(64 << 20), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, path, "before the first add");
        }
    }

    @Test
    void staleTemporaryFilesOfADeadBuildAreDeletedButThoseOfALiveBuildStay() throws IOException {
        Path path = dir.resolve("t.hidx");
        Path staleTemp = dir.resolve("t.hidx.bulk-dead-1.tmp");
        Path staleRun = dir.resolve("t.hidx.bulk-dead-1.run-0");
        Path orphanRun = dir.resolve("t.hidx.bulk-gone-2.run-3");
        Path otherTarget = dir.resolve("t.hidx2.bulk-x.tmp");
        for (Path p : List.of(staleTemp, staleRun, orphanRun, otherTarget)) {
            Files.writeString(p, "left by a killed build");
        }
        try (BulkBuilder live = HashIndex.bulkBuilder(path, Options.widths(4, 4))) {
            assertThat(leftovers()).containsExactlyInAnyOrder(otherTarget.getFileName().toString(),
                    tempOf(live).getFileName().toString());
            try (BulkBuilder second = HashIndex.bulkBuilder(path, Options.widths(4, 4))) {
                assertThat(tempOf(live)).as("the live build's file").exists();
                second.add("a".getBytes(), "b".getBytes());
                second.build();
            }
            live.add("c".getBytes(), "d".getBytes());
            assertThatThrownBy(live::build).hasMessageContaining("already exists");
        }
        assertThat(leftovers()).containsExactly(otherTarget.getFileName().toString());
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.get("a".getBytes())).isEqualTo("b".getBytes());
        }
    }

    @Test
    void namesWithGlobCharactersAreMatchedLiterally() throws IOException {
        Path path = dir.resolve("a[1]*.hidx");
        Files.writeString(dir.resolve("a[1]*.hidx.bulk-dead.tmp"), "stale");
        Files.writeString(dir.resolve("a1x.hidx.bulk-dead.tmp"), "another target's, which the glob a[1]* would match");
        bulk(path, Options.widths(4, 4), BulkBuilder.MIN_MEMORY, entries(10, 9, 4, 4));
        assertThat(leftovers()).containsExactly("a1x.hidx.bulk-dead.tmp");
    }

    private static Path tempOf(BulkBuilder b) {
        return b.temporaryFile();
    }
}

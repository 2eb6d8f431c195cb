package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Cells never straddle a mapping chunk: with chunk sizes that the cell stride does not divide, every
 * chunk ends in unused bytes, and growth keeps adding chunks and remapping the last, partial one.
 */
class ChunkBoundaryTest {

    @ParameterizedTest(name = "key {0} value {1} chunk {2}")
    @CsvSource({
            "12, 20, 65536",   // stride 320: 204 cells per chunk, 256 bytes left over
            "64, 1000, 65536", // stride 8576: 7 cells per chunk, 5504 bytes left over
            "12, 20, 4096"     // stride 320: 12 cells per chunk, 256 bytes left over
    })
    void entriesSurviveGrowthAcrossManyChunksWhoseSizeTheStrideDoesNotDivide(int keyWidth, int valueWidth, long chunk,
                                                                             @TempDir Path dir) {
        int stride = BucketLayout.strideFor(keyWidth, valueWidth);
        assertThat(chunk % stride).as("the stride must not divide the chunk size").isNotZero();
        long cellsPerChunk = chunk / stride;
        Path path = dir.resolve("chunks.hidx");
        Map<Bytes, byte[]> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(keyWidth * 1000L + valueWidth);
        int entries = stride > 4096 ? 6_000 : 60_000;
        try (HashIndex idx = HashIndex.create(path, Options.widths(keyWidth, valueWidth).chunkSize(chunk).seed(chunk))) {
            Header h = idx.table().h;
            long checked = 0;
            for (int i = 0; i < entries; i++) {
                byte[] k = new byte[keyWidth];
                rnd.nextBytes(k);
                byte[] v = new byte[rnd.nextInt(valueWidth + 1)];
                rnd.nextBytes(v);
                idx.put(k, v);
                model.put(Bytes.of(k), v);
                if (h.doublings > checked && !h.growing()) {
                    checked = h.doublings;
                    assertThat(idx.verify()).as("verify after doubling %d", checked).isEmpty();
                    Fixtures.assertHoldsExactly(idx, model, checked, "after doubling " + checked);
                }
            }
            long chunks = (h.allocatedCells + cellsPerChunk - 1) / cellsPerChunk;
            assertThat(chunks).as("the test spans many chunks").isGreaterThan(50);
            BucketLayout layout = idx.table().layout;
            for (long c = 0; c < h.allocatedCells; c++) {
                long inChunk = (layout.cellOffset(c) - MappedFile.DATA_START) % chunk;
                assertThat(inChunk + stride).as("cell %d ends inside its chunk", c).isLessThanOrEqualTo(chunk);
                assertThat(inChunk % 64).as("cell %d is 64-byte aligned in its chunk", c).isZero();
            }
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 99, "after reopening");
        }
    }

    /**
     * The chunk of a cell is computed by multiplying with a reciprocal (BucketLayout.divide): exact for
     * every divisor a chunk can have and every cell number below 2^32, and a plain division above.
     */
    @org.junit.jupiter.api.Test
    void dividingByMultiplyingIsExact() {
        long seed = new java.security.SecureRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] divisors = {1, 2, 3, 7, 12, 13, 204, 3_355_443, 1L << 20, (1L << 31) - 1, 1L << 31, (1L << 32) - 1};
        for (int round = 0; round < 2_000; round++) {
            long d = round < divisors.length ? divisors[round] : 1 + rnd.nextLong((1L << 32) - 1);
            long magic = BucketLayout.divisorMagic(d);
            long[] ns = {0, 1, d - 1, d, d + 1, 2 * d - 1, (1L << 32) - 1, 1L << 32, (1L << 32) + 1, Long.MAX_VALUE,
                    rnd.nextLong(1L << 32), rnd.nextLong(1L << 32), rnd.nextLong(Long.MAX_VALUE)};
            for (long n : ns) {
                assertThat(BucketLayout.divide(n, d, magic)).as("%d / %d (seed %d)", n, d, seed).isEqualTo(n / d);
            }
            for (int k = 0; k < 200; k++) {
                long q = rnd.nextLong(((1L << 32) - 1) / d + 1);
                long n = q * d + rnd.nextLong(d); // near multiples too: where a rounded reciprocal would fail first
                if (n >= 0) {
                    assertThat(BucketLayout.divide(n, d, magic)).as("%d / %d (seed %d)", n, d, seed).isEqualTo(n / d);
                }
            }
        }
    }
}

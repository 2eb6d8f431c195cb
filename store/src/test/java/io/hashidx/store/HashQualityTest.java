package io.hashidx.store;

import static io.hashidx.store.Fixtures.Z_999;
import static io.hashidx.store.Fixtures.chiSquareCritical;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hash spreads keys evenly over buckets and tophash values, also for sequential keys, and every
 * input bit affects every output bit. Bounds are the 99.9% quantiles; all inputs are seeded, so each
 * test gives the same answer on every run.
 */
class HashQualityTest {
    private static final int KEYS = 1_000_000;

    @Test
    void wilsonHilfertyGivesTheTabulatedChiSquareQuantiles() {
        // exact 0.999 quantiles (scipy.stats.chi2.ppf): 149.449 (100 df), 324.832 (250 df), 66659.477 (65535 df)
        assertThat(chiSquareCritical(100, Z_999)).isCloseTo(149.449, offset(0.1));
        assertThat(chiSquareCritical(250, Z_999)).isCloseTo(324.832, offset(0.1));
        assertThat(chiSquareCritical(65535, Z_999)).isCloseTo(66659.477, offset(0.1));
    }

    @ParameterizedTest(name = "{0} buckets, hash seed {1}")
    @CsvSource({"65536, 0", "65536, 7046029254386353131", "100003, 0", "100003, -2401053088876216593"})
    void sequentialLongKeysFillBucketsUniformly(long buckets, long seed) {
        long[] counts = new long[(int) buckets];
        ByteBuffer key = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < KEYS; i++) {
            key.putLong(0, i);
            counts[(int) Hashing.bucketIndex(Hashing.xxh64(key.array(), 0, 8, seed), buckets)]++;
        }
        assertChiSquareWithinBound(counts, KEYS, "sequential 8-byte little-endian keys 0.." + (KEYS - 1));
    }

    @ParameterizedTest(name = "{0} buckets, hash seed {1}")
    @CsvSource({"65536, 0", "65536, 7046029254386353131", "100003, 1"})
    void randomKeysFillBucketsUniformly(long buckets, long seed) {
        long[] counts = new long[(int) buckets];
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x1234);
        byte[] key = new byte[16];
        for (int i = 0; i < KEYS; i++) {
            rnd.nextBytes(key);
            counts[(int) Hashing.bucketIndex(Hashing.xxh64(key, 0, 16, seed), buckets)]++;
        }
        assertChiSquareWithinBound(counts, KEYS, "random 16-byte keys");
    }

    private static void assertChiSquareWithinBound(long[] counts, long total, String what) {
        double expected = (double) total / counts.length;
        double chi = 0;
        for (long c : counts) {
            double d = c - expected;
            chi += d * d / expected;
        }
        double bound = chiSquareCritical(counts.length - 1, Z_999);
        assertThat(chi).as("chi-square of %s over %d buckets (99.9%% bound %.1f)", what, counts.length, bound)
                .isLessThan(bound);
    }

    /**
     * Strict avalanche: flipping any one input bit flips each output bit with probability 0.5. With
     * 20,000 samples per input bit the standard error is 0.0035, so the 0.02 tolerance is 5.6 sigma.
     */
    @ParameterizedTest(name = "{0}-byte keys")
    @ValueSource(ints = {8, 16, 33})
    void flippingAnyInputBitFlipsEachOutputBitHalfTheTime(int length) {
        int samples = 20_000;
        int bits = length * 8;
        int[][] flips = new int[bits][64];
        SplittableRandom rnd = new SplittableRandom(length);
        byte[] key = new byte[length];
        long seed = 0x243F6A8885A308D3L;
        for (int s = 0; s < samples; s++) {
            rnd.nextBytes(key);
            long base = Hashing.xxh64(key, 0, length, seed);
            for (int bit = 0; bit < bits; bit++) {
                key[bit >>> 3] ^= (byte) (1 << (bit & 7));
                long diff = base ^ Hashing.xxh64(key, 0, length, seed);
                key[bit >>> 3] ^= (byte) (1 << (bit & 7));
                int[] row = flips[bit];
                for (int out = 0; out < 64; out++) {
                    row[out] += (int) (diff >>> out) & 1;
                }
            }
        }
        double worst = 0;
        int worstIn = -1;
        int worstOut = -1;
        for (int bit = 0; bit < bits; bit++) {
            for (int out = 0; out < 64; out++) {
                double deviation = Math.abs((double) flips[bit][out] / samples - 0.5);
                if (deviation > worst) {
                    worst = deviation;
                    worstIn = bit;
                    worstOut = out;
                }
            }
        }
        assertThat(worst).as("worst deviation from 0.5: input bit %d -> output bit %d", worstIn, worstOut)
                .isLessThanOrEqualTo(0.02);
    }

    @ParameterizedTest(name = "sequential keys: {0}")
    @ValueSource(booleans = {true, false})
    void tophashValuesOfALoadedTableFollowTheExpectedDistribution(boolean sequential, @TempDir Path dir) {
        SplittableRandom rnd = new SplittableRandom(77);
        try (HashIndex idx = HashIndex.create(dir.resolve("tophash.hidx"), Options.widths(16, 0).seed(0x7E57))) {
            byte[] key = new byte[16];
            for (int i = 0; i < 300_000; i++) {
                if (sequential) {
                    Fixtures.key16(i, key);
                } else {
                    rnd.nextBytes(key);
                }
                idx.put(key, new byte[0]);
            }
            Inspection inspection = idx.inspect();
            assertThat(inspection.entries()).isEqualTo(300_000);
            long[] counts = inspection.tophashCounts();
            for (int v = 0; v < BucketLayout.MIN_TOPHASH; v++) {
                assertThat(counts[v]).as("reserved tophash value %d is never a live entry's", v).isZero();
            }
            double bound = chiSquareCritical(250, Z_999);
            assertThat(inspection.tophashChiSquare()).as("tophash chi-square (99.9%% bound %.1f)", bound).isLessThan(bound);
            // and the check is able to fail: a distorted histogram is far above the bound
            assertThat(chiSquareOf(skewed(counts))).isGreaterThan(bound);
            assertThat(chiSquareOf(counts)).isCloseTo(inspection.tophashChiSquare(), offset(1e-6));
        }
    }

    /** The same statistic as Inspector's, recomputed here from the counts. */
    private static double chiSquareOf(long[] counts) {
        long total = 0;
        for (int v = BucketLayout.MIN_TOPHASH; v < 256; v++) {
            total += counts[v];
        }
        double chi = 0;
        for (int v = BucketLayout.MIN_TOPHASH; v < 256; v++) {
            double expected = total * (v < 2 * BucketLayout.MIN_TOPHASH ? 2.0 : 1.0) / 256;
            double d = counts[v] - expected;
            chi += d * d / expected;
        }
        return chi;
    }

    /** Moves 2% of the entries from the upper half of the values to the lower half. */
    private static long[] skewed(long[] counts) {
        long[] s = counts.clone();
        for (int v = 128; v < 256; v++) {
            long moved = s[v] / 50;
            s[v] -= moved;
            s[v - 120] += moved;
        }
        return s;
    }
}

package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random operations against a {@link java.util.HashMap} model (see {@link ModelRun}). CI runs fixed
 * seeds; {@code -Dhashidx.test.seed=N} runs seed N only, to reproduce a failure.
 */
class ModelBasedRandomTest {
    static final int OPS = 100_000;

    /** The fixed CI seeds, or only the seed named by {@code hashidx.test.seed}. */
    static LongStream seeds() {
        String s = System.getProperty("hashidx.test.seed");
        if (s != null && !s.isBlank()) {
            return LongStream.of(Long.decode(s.trim()));
        }
        return LongStream.of(1, 20240607, 0x5EED_CAFE_F00DL);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomOperationsMatchAHashMapAcrossReopensAndGrowth(long seed, @TempDir Path dir) {
        ModelRun.Stats stats = new ModelRun(seed, 12, 20, 0, OPS, 16_384, dir).run();
        assertCoveredTheInterestingCases(seed, stats);
    }

    /** 4096-byte chunks hold 12 of the 320-byte cells and leave 256 bytes: thousands of chunk boundaries. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomOperationsMatchAHashMapWithCellsSpreadOverManySmallChunks(long seed, @TempDir Path dir) {
        assertThat(BucketLayout.strideFor(12, 20)).isEqualTo(320);
        ModelRun.Stats stats = new ModelRun(seed, 12, 20, 4096, OPS, 16_384, dir).run();
        assertCoveredTheInterestingCases(seed, stats);
    }

    /** The run is only worth something if it grew several times and reopened in the middle of growths. */
    private static void assertCoveredTheInterestingCases(long seed, ModelRun.Stats stats) {
        assertThat(stats.ops()).isGreaterThanOrEqualTo(100_000);
        assertThat(stats.doublings()).as("seed %d: doublings %s", seed, stats).isGreaterThanOrEqualTo(10);
        assertThat(stats.maxSize()).as("seed %d: %s", seed, stats).isGreaterThan(6_000);
        assertThat(stats.reopens()).as("seed %d: %s", seed, stats).isGreaterThan(50);
        assertThat(stats.reopensMidGrowth()).as("seed %d: %s", seed, stats).isGreaterThan(3);
        assertThat(stats.readOnlyOpens()).as("seed %d: %s", seed, stats).isGreaterThan(5);
        assertThat(stats.iterations()).as("seed %d: %s", seed, stats).isGreaterThan(100);
        assertThat(stats.removes()).as("seed %d: %s", seed, stats).isGreaterThan(5_000);
        assertThat(stats.overwrites()).as("seed %d: %s", seed, stats).isGreaterThan(8_000);
        assertThat(stats.finishGrowthCalls()).as("seed %d: %s", seed, stats).isGreaterThan(20);
    }
}

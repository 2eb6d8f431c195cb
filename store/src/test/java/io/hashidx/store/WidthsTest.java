package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Key and value lengths are stored in 1, 2 or 4 bytes depending on the width; each size, and the
 * zero widths, survive the random model run (see {@link ModelRun}) including reopens.
 */
class WidthsTest {

    @ParameterizedTest(name = "key width {0}, value width {1}")
    @CsvSource({
            "0, 0, 2000, 10",          // only the empty key, only empty values
            "0, 8, 2000, 10",
            "1, 0, 5000, 300",
            "255, 255, 20000, 3000",   // largest widths with 1-byte lengths
            "256, 256, 20000, 3000",   // smallest widths with 2-byte lengths
            "300, 70000, 2000, 200"    // 2-byte key lengths, 4-byte value lengths
    })
    void randomOperationsMatchAHashMapForEveryLengthFieldSize(int keyWidth, int valueWidth, int ops, int pool,
                                                              @TempDir Path dir) {
        ModelRun.Stats stats = new ModelRun(keyWidth * 100_003L + valueWidth, keyWidth, valueWidth, 0, ops, pool, dir).run();
        assertThat(stats.ops()).isEqualTo(ops);
    }

    @Test
    void lengthFieldsAreOneTwoOrFourBytes() {
        assertThat(BucketLayout.lengthBytes(0)).isEqualTo(1);
        assertThat(BucketLayout.lengthBytes(255)).isEqualTo(1);
        assertThat(BucketLayout.lengthBytes(256)).isEqualTo(2);
        assertThat(BucketLayout.lengthBytes(65_535)).isEqualTo(2);
        assertThat(BucketLayout.lengthBytes(65_536)).isEqualTo(4);
        assertThat(BucketLayout.strideFor(0, 0)).isEqualTo(64);
        assertThat(BucketLayout.strideFor(16, 16)).isEqualTo(320);
        assertThat(BucketLayout.strideFor(300, 70_000) % 64).isZero();
    }
}

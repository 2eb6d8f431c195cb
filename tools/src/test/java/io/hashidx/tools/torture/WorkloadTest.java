package io.hashidx.tools.torture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hashidx.store.Inspection;
import org.junit.jupiter.api.Test;

/** The pieces parent and child share: keys and values they both compute, the growth token on each line. */
class WorkloadTest {
    @Test
    void keysCarryTheirIdAndValuesFitTheWidth() {
        Workload w = new Workload(20, 5, false);
        for (long id : new long[] {0, 1, 255, 1L << 40}) {
            byte[] key = w.key(id);
            assertThat(key).hasSize(20);
            assertThat(w.id(key)).isEqualTo(id);
            for (long op = 0; op < 50; op++) {
                assertThat(w.value(id, op)).hasSizeLessThanOrEqualTo(5).isEqualTo(w.value(id, op));
            }
        }
        byte[] foreign = w.key(3);
        foreign[19] ^= 1;
        assertThat(w.id(foreign)).as("a key the workload never writes").isEqualTo(-1);
        assertThat(w.id(new byte[8])).as("wrong length").isEqualTo(-1);
        assertThat(w.value(1, 2)).isNotEqualTo(w.value(1, 3));
        assertThatThrownBy(() -> new Workload(7, 1, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void variableLengthKeysAndValuesSpanTheInlineWidthsAndCarryTheirId() {
        Workload w = new Workload(40, 1200, true);
        java.util.Set<Integer> keyLengths = new java.util.TreeSet<>();
        int nearInline = 0;
        int outOfLine = 0;
        for (long id = 0; id < 500; id++) {
            byte[] key = w.key(id);
            keyLengths.add(key.length);
            assertThat(key.length).isBetween(8, 40);
            assertThat(w.id(key)).isEqualTo(id);
            byte[] value = w.value(id, id * 3);
            assertThat(value).hasSizeLessThanOrEqualTo(1200).isEqualTo(w.value(id, id * 3));
            nearInline += value.length >= 14 && value.length <= 18 ? 1 : 0;
            outOfLine += value.length > 16 ? 1 : 0;
        }
        assertThat(keyLengths).contains(8, 16, 17, 40);
        assertThat(nearInline).as("values within two bytes of the inline width").isGreaterThan(150);
        assertThat(outOfLine).as("values longer than the inline width").isGreaterThan(150);
    }

    @Test
    void growthTokensRoundTrip() {
        Inspection.Growth doubling = new Inspection.Growth(true, false, 64, 10, 12, 3);
        Inspection.Growth sameSize = new Inspection.Growth(true, true, 32, 0, 1, 0);

        assertThat(GrowthState.token(doubling)).isEqualTo("D64:12");
        assertThat(GrowthState.token(sameSize)).isEqualTo("S32:1");
        assertThat(GrowthState.token(new Inspection.Growth(false, false, 0, 0, 0, 0))).isEqualTo("-");
        assertThat(GrowthState.parse("D64:12")).isEqualTo(new GrowthState(true, false, 64, 12));
        assertThat(GrowthState.parse("D64:12").newBuckets()).isEqualTo(128);
        assertThat(GrowthState.parse("S32:1").newBuckets()).isEqualTo(32);
        assertThat(GrowthState.parse("-")).isEqualTo(GrowthState.NONE);
        assertThat(GrowthState.parse("D64:12").startedSince(GrowthState.NONE)).isTrue();
        assertThat(GrowthState.parse("D64:13").startedSince(GrowthState.parse("D64:12"))).isFalse();
        assertThat(GrowthState.parse("D128:1").startedSince(GrowthState.parse("D64:60"))).isTrue();
        assertThatThrownBy(() -> GrowthState.parse("X1:2")).isInstanceOf(IllegalArgumentException.class);
    }
}

package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RunFormatTest {
    @ParameterizedTest(name = "key {0} bytes, value {1} bytes: {2} length bytes")
    @CsvSource({"0, 0, 2", "127, 128, 3", "128, 16383, 4", "16384, 0, 4", "65535, 2097151, 6",
                "1, 2097152, 5", "0, 16777216, 5"})
    void recordsRoundTripWithVarintLengthsOfOneToFourBytes(int keyLength, int valueLength, int lengthBytes) {
        byte[] key = new byte[keyLength];
        byte[] value = new byte[valueLength];
        for (int i = 0; i < keyLength; i++) {
            key[i] = (byte) (i * 7);
        }
        for (int i = 0; i < valueLength; i++) {
            value[i] = (byte) (i * 13);
        }
        long size = RunFormat.size(keyLength, valueLength);
        assertThat(size).isEqualTo(lengthBytes + (long) keyLength + valueLength);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(size + 10);
            assertThat(RunFormat.write(s, 3, key, value)).isEqualTo(size);
            RunFormat.Cursor r = new RunFormat.Cursor().read(s, 3);
            assertThat(r.keyLength).isEqualTo(keyLength);
            assertThat(r.valueLength).isEqualTo(valueLength);
            assertThat(r.end).isEqualTo(3 + size);
            assertThat(s.asSlice(r.keyAt, keyLength).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(key);
            assertThat(s.asSlice(r.valueAt, valueLength).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(value);
        }
    }
}

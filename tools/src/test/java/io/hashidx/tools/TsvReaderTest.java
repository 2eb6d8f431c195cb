package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TsvReaderTest {
    private static List<String> lines(byte[] input) throws IOException {
        List<String> lines = new ArrayList<>();
        try (TsvReader r = new TsvReader(new ByteArrayInputStream(input))) {
            while (r.next()) {
                lines.add(r.lineNumber() + ":" + (r.isEmpty() ? "<empty>" : !r.hasTab() ? "<no tab>"
                        : new String(r.rawKey(), UTF_8) + "=" + new String(r.rawValue(), UTF_8)
                        + "/" + r.keyLength() + "," + r.valueLength()));
            }
            assertThat(r.bytesConsumed()).isEqualTo(input.length);
        }
        return lines;
    }

    @Test
    void splitsAtTheFirstTabDropsCrAndKeepsEmptyLinesCountedAndALastLineWithoutLf() throws IOException {
        byte[] input = "a\tb\r\n\nno tab\n\u00e9\tx\ty\n\tempty key\nlast\t".getBytes(UTF_8);

        assertThat(lines(input)).containsExactly("1:a=b/1,1", "2:<empty>", "3:<no tab>", "4:\u00e9=x\ty/2,3",
                "5:=empty key/0,9", "6:last=/4,0");
    }

    @Test
    void readsLinesLongerThanItsBuffer() throws IOException {
        String value = "v".repeat(200_000);
        byte[] input = ("k\t" + value + "\nk2\tv2").getBytes(UTF_8);

        assertThat(lines(input)).containsExactly("1:k=" + value + "/1,200000", "2:k2=v2/2,2");
    }

    /**
     * Random inputs (line feeds, CRs, tabs, backslashes, bytes with the high bit set), read through
     * buffers of 16 to 64 bytes from a stream that returns 1 to 40 bytes per read, so lines are cut at
     * every position of the buffer and outgrow it: every line, tab and byte count is what a plain
     * split finds.
     */
    @Test
    void randomInputsThroughTinyBuffersSplitExactlyAsAPlainSplit() throws IOException {
        long seed = 2026;
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] alphabet = {'\n', '\n', '\t', '\r', '\\', 'a', 'b', (byte) 0xc3, (byte) 0xa9, 0, (byte) 0x8a};
        for (int round = 0; round < 300; round++) {
            byte[] input = new byte[rnd.nextInt(400)];
            for (int i = 0; i < input.length; i++) {
                input[i] = rnd.nextInt(4) == 0 ? alphabet[rnd.nextInt(alphabet.length)] : (byte) rnd.nextInt(256);
            }
            List<String> expected = new ArrayList<>();
            int start = 0;
            long number = 0;
            while (start < input.length) {
                int end = start;
                while (end < input.length && input[end] != '\n') {
                    end++;
                }
                int stop = end > start && input[end - 1] == '\r' ? end - 1 : end;
                int tab = -1;
                for (int i = start; i < stop && tab < 0; i++) {
                    tab = input[i] == '\t' ? i - start : -1;
                }
                expected.add(++number + ":" + HexFormat.of().formatHex(input, start, stop) + "/" + tab);
                start = end + 1;
            }
            int maxRead = 1 + rnd.nextInt(40);
            InputStream trickle = new ByteArrayInputStream(input) {
                @Override
                public synchronized int read(byte[] b, int off, int len) {
                    return super.read(b, off, Math.min(len, 1 + rnd.nextInt(maxRead)));
                }
            };
            List<String> actual = new ArrayList<>();
            try (TsvReader r = new TsvReader(trickle, 16 + rnd.nextInt(49))) {
                while (r.next()) {
                    int tab = r.hasTab() ? r.keyLength() : -1;
                    assertThat(r.hasTab() ? r.keyLength() + 1 + r.valueLength() : -1)
                            .isEqualTo(r.hasTab() ? r.lineEnd() - r.lineStart() : -1);
                    actual.add(r.lineNumber() + ":" + HexFormat.of().formatHex(r.buffer(), r.lineStart(), r.lineEnd()) + "/" + tab);
                }
                assertThat(r.bytesConsumed()).as("seed %d round %d: bytes", seed, round).isEqualTo(input.length);
            }
            assertThat(actual).as("seed %d round %d", seed, round).isEqualTo(expected);
        }
    }

    @Test
    void indexOfFindsTheFirstByteEightAtATimeAsOneByOne() {
        long seed = 7;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 2000; round++) {
            byte[] a = new byte[rnd.nextInt(40)];
            for (int i = 0; i < a.length; i++) {
                // the byte looked for, its neighbours, and the same with the high bit set
                a[i] = (byte) new int[] {0x0a, 0x09, 0x0b, 0x8a, 0x00, 0xff, 0x5c, rnd.nextInt(256)}[rnd.nextInt(8)];
            }
            int from = rnd.nextInt(a.length + 1);
            int to = from + rnd.nextInt(a.length - from + 1);
            char b = "\n\t\\".charAt(rnd.nextInt(3));
            int expected = -1;
            for (int i = from; i < to && expected < 0; i++) {
                expected = a[i] == b ? i : -1;
            }
            assertThat(TsvReader.indexOf(a, from, to, b)).as("seed %d round %d", seed, round).isEqualTo(expected);
        }
    }

    @Test
    void emptyInputHasNoLines() throws IOException {
        assertThat(lines(new byte[0])).isEmpty();
        assertThat(lines("\n".getBytes(UTF_8))).containsExactly("1:<empty>");
    }
}

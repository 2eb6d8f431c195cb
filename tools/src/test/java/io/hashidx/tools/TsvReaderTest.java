package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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

    @Test
    void emptyInputHasNoLines() throws IOException {
        assertThat(lines(new byte[0])).isEmpty();
        assertThat(lines("\n".getBytes(UTF_8))).containsExactly("1:<empty>");
    }
}

package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TsvEscapesTest {

    private static byte[] unescape(String s) {
        byte[] b = s.getBytes(UTF_8);
        return TsvEscapes.unescape(b, 0, b.length);
    }

    @Test
    void validUtf8StaysReadableAndSpecialBytesAreEscaped() {
        assertThat(TsvEscapes.escape("caf\u00e9 \u20ac \uD83D\uDE00".getBytes(UTF_8))).isEqualTo("caf\u00e9 \u20ac \uD83D\uDE00");
        assertThat(TsvEscapes.escape("a\\b\tc\nd\re".getBytes(UTF_8))).isEqualTo("a\\\\b\\tc\\nd\\re");
        assertThat(TsvEscapes.escape(new byte[] {0, 0x1f, 0x7f, (byte) 0xff, (byte) 0xc3}))
                .isEqualTo("\\x00\\x1f\\x7f\\xff\\xc3");
        // C1 control U+0085 is valid UTF-8 but not printable; overlong "/" and a surrogate are not UTF-8
        assertThat(TsvEscapes.escape(new byte[] {(byte) 0xc2, (byte) 0x85})).isEqualTo("\\xc2\\x85");
        assertThat(TsvEscapes.escape(new byte[] {(byte) 0xc0, (byte) 0xaf})).isEqualTo("\\xc0\\xaf");
        assertThat(TsvEscapes.escape(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80})).isEqualTo("\\xed\\xa0\\x80");
        assertThat(TsvEscapes.escape(new byte[0])).isEmpty();
    }

    @Test
    void unescapeUndoesEveryEscapeInEitherHexCase() {
        assertThat(unescape("a\\\\b\\tc\\nd\\re\\x00\\xFf")).isEqualTo(new byte[] {'a', '\\', 'b', '\t', 'c', '\n', 'd',
            '\r', 'e', 0, (byte) 0xff});
    }

    @Test
    void unknownEscapesAndTruncatedOnesAreRefused() {
        assertThatThrownBy(() -> unescape("C:\\data")).hasMessageContaining("unknown escape \\d")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> unescape("a\\q")).hasMessageContaining("unknown escape \\q")
                .hasMessageContaining("literal backslash is written \\\\");
        assertThatThrownBy(() -> unescape("end\\")).hasMessageContaining("backslash at the end");
        assertThatThrownBy(() -> unescape("\\x4")).hasMessageContaining("two hex digits");
        assertThatThrownBy(() -> unescape("\\xzz")).hasMessageContaining("two hex digits");
    }

    @Test
    void anyBytesRoundTrip() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[rnd.nextInt(12)];
            for (int j = 0; j < b.length; j++) {
                b[j] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : "\\\t\n\r a\u00e9".getBytes(UTF_8)[rnd.nextInt(8)]);
            }
            String escaped = TsvEscapes.escape(b);
            assertThat(escaped).doesNotContain("\t", "\n", "\r");
            assertThat(unescape(escaped)).as(escaped).isEqualTo(b);
            assertThat(TsvEscapes.isUtf8(b)).isEqualTo(isUtf8ByJdk(b));
        }
    }

    private static boolean isUtf8ByJdk(byte[] b) {
        try {
            UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }
}

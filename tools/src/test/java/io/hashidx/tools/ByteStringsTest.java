package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteStringsTest {
    @Test
    void textArgumentsAreTheirUtf8Bytes() {
        assertThat(ByteStrings.fromArgument("\u00e9\u20ac", false, "UTF-8")).containsExactly(0xc3, 0xa9, 0xe2, 0x82, 0xac);
        assertThat(ByteStrings.fromArgument("\ufffd", false, "UTF-8")).as("typed in a UTF-8 locale")
                .containsExactly(0xef, 0xbf, 0xbd);
    }

    @Test
    void argumentsTheLocaleCouldNotDecodeAreRefused() {
        assertThatThrownBy(() -> ByteStrings.fromArgument("\ufffd\ufffd", false, "ANSI_X3.4-1968"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("locale's encoding (ANSI_X3.4-1968) could not decode")
                .hasMessageContaining("--hex");
        assertThat(ByteStrings.fromArgument("plain", false, "ANSI_X3.4-1968")).containsExactly('p', 'l', 'a', 'i', 'n');
    }

    @Test
    void hexAcceptsEitherCaseAndA0xPrefix() {
        assertThat(ByteStrings.fromArgument("0XfF00", true)).containsExactly(0xff, 0x00);
        assertThat(ByteStrings.fromArgument("", true)).isEmpty();
        assertThatThrownBy(() -> ByteStrings.fromArgument("0x1", true)).hasMessageContaining("odd number of digits");
        assertThatThrownBy(() -> ByteStrings.fromArgument("0g", true)).hasMessageContaining("'g' is not a hex digit");
    }

    @Test
    void valuesPrintAsTextUnlessTheyAreNotUtf8() {
        assertThat(ByteStrings.display(new byte[] {(byte) 0xc3, (byte) 0xa9}, false)).isEqualTo("\u00e9");
        assertThat(ByteStrings.display(new byte[] {(byte) 0xc3}, false)).isEqualTo("0xc3");
        assertThat(ByteStrings.display(new byte[] {(byte) 0xc3, (byte) 0xa9}, true)).isEqualTo("c3a9");
        assertThat(ByteStrings.display(new byte[0], false)).isEmpty();
    }
}

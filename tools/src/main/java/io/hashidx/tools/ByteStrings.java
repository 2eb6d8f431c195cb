package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.util.HexFormat;

/**
 * Keys and values on the command line. Text arguments are stored as their UTF-8 bytes; with
 * {@code --hex} they are hex strings (an optional {@code 0x} prefix is accepted). Values are printed
 * as UTF-8 text, or, when their bytes are not valid UTF-8, as hex with a {@code 0x} prefix.
 */
final class ByteStrings {
    private static final HexFormat HEX = HexFormat.of();
    /** The encoding the JVM decoded the command line with: the locale's (LC_ALL, LC_CTYPE, LANG). */
    private static final String ARGUMENT_ENCODING = System.getProperty("sun.jnu.encoding", "UTF-8");

    private ByteStrings() {
    }

    /** The bytes an argument stands for; throws IllegalArgumentException naming the problem. */
    static byte[] fromArgument(String argument, boolean hex) {
        return fromArgument(argument, hex, ARGUMENT_ENCODING);
    }

    /**
     * As {@link #fromArgument(String, boolean)}, for a command line decoded with {@code argumentEncoding}.
     * Under a non-UTF-8 locale the JVM turns the bytes of non-ASCII arguments into U+FFFD; such an
     * argument is refused rather than stored or looked up as replacement characters.
     */
    static byte[] fromArgument(String argument, boolean hex, String argumentEncoding) {
        if (!hex) {
            if (argument.indexOf('\uFFFD') >= 0 && !isUtf8(argumentEncoding)) {
                throw new IllegalArgumentException("'" + argument + "' has characters that the locale's encoding ("
                        + argumentEncoding + ") could not decode; run with a UTF-8 locale (e.g. LC_ALL=C.UTF-8) "
                        + "or give the bytes in hex with --hex");
            }
            return argument.getBytes(UTF_8);
        }
        String digits = argument.startsWith("0x") || argument.startsWith("0X") ? argument.substring(2) : argument;
        if (digits.length() % 2 != 0) {
            throw new IllegalArgumentException("'" + argument + "' is not a hex string: it has an odd number of digits");
        }
        for (int i = 0; i < digits.length(); i++) {
            if (Character.digit(digits.charAt(i), 16) < 0) {
                throw new IllegalArgumentException("'" + argument + "' is not a hex string: '" + digits.charAt(i)
                        + "' is not a hex digit");
            }
        }
        return HEX.parseHex(digits);
    }

    private static boolean isUtf8(String encoding) {
        return encoding.equalsIgnoreCase("UTF-8") || encoding.equalsIgnoreCase("UTF8");
    }

    /** Lower-case hex, no prefix. */
    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** For output: hex with {@code --hex}; otherwise UTF-8 text, or {@code 0x}-prefixed hex if the bytes are not UTF-8. */
    static String display(byte[] bytes, boolean hex) {
        if (hex) {
            return hex(bytes);
        }
        try {
            return UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return "0x" + hex(bytes);
        }
    }
}

package io.hashidx.tools;

/**
 * The escaping of {@code dump --format tsv} and {@code load}, which lets any bytes round-trip through
 * a key{@code <TAB>}value line while valid UTF-8 text stays readable:
 *
 * <pre>
 *   \\    a backslash          \t  TAB (0x09)
 *   \n    LF (0x0a)            \r  CR (0x0d)
 *   \xHH  any other byte that is not part of a valid, printable UTF-8 character (two hex digits)
 * </pre>
 *
 * Printable means not a control character (C0, DEL, C1). Unescaping accepts upper- and lower-case hex
 * digits and refuses any other backslash sequence.
 */
final class TsvEscapes {
    private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();

    private TsvEscapes() {
    }

    /** {@code bytes} as escaped text. */
    static String escape(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length + 8);
        int i = 0;
        while (i < bytes.length) {
            int b = bytes[i] & 0xFF;
            switch (b) {
                case '\\' -> sb.append("\\\\");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> {
                    int n = utf8Length(bytes, i);
                    int cp = n > 0 ? codePoint(bytes, i, n) : -1;
                    if (n == 0 || Character.isISOControl(cp)) {
                        hexEscape(sb, b);
                    } else {
                        sb.appendCodePoint(cp);
                        i += n;
                        continue;
                    }
                }
            }
            i++;
        }
        return sb.toString();
    }

    /** The bytes that {@code text[from, to)} stands for; throws IllegalArgumentException for a bad escape. */
    static byte[] unescape(byte[] text, int from, int to) {
        byte[] out = new byte[to - from];
        return java.util.Arrays.copyOf(out, unescapeInto(text, from, to, out, 0));
    }

    /**
     * Writes the bytes that {@code text[from, to)} stands for into {@code out} from {@code at} (which
     * must have room for {@code to - from} bytes: unescaping never lengthens) and returns how many;
     * throws IllegalArgumentException for a bad escape.
     */
    static int unescapeInto(byte[] text, int from, int to, byte[] out, int at) {
        int o = at;
        for (int i = from; i < to; i++) {
            byte b = text[i];
            if (b != '\\') {
                out[o++] = b;
                continue;
            }
            if (i + 1 >= to) {
                throw new IllegalArgumentException("a backslash at the end of a field; write a literal backslash as \\\\");
            }
            byte e = text[++i];
            switch (e) {
                case '\\' -> out[o++] = '\\';
                case 't' -> out[o++] = '\t';
                case 'n' -> out[o++] = '\n';
                case 'r' -> out[o++] = '\r';
                case 'x' -> {
                    int hi = i + 1 < to ? Character.digit(text[i + 1], 16) : -1;
                    int lo = i + 2 < to ? Character.digit(text[i + 2], 16) : -1;
                    if (hi < 0 || lo < 0) {
                        throw new IllegalArgumentException("\\x must be followed by two hex digits");
                    }
                    out[o++] = (byte) (hi << 4 | lo);
                    i += 2;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + (char) (e & 0xFF)
                        + "; escapes are \\\\ \\t \\n \\r \\xHH, so a literal backslash is written \\\\");
            }
        }
        return o - at;
    }

    /** True when {@code bytes} are valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). */
    static boolean isUtf8(byte[] bytes) {
        int i = 0;
        while (i < bytes.length) {
            int n = utf8Length(bytes, i);
            if (n == 0) {
                return false;
            }
            i += n;
        }
        return true;
    }

    /** Length of the valid UTF-8 sequence starting at {@code i}, or 0 when the bytes there are not one. */
    private static int utf8Length(byte[] b, int i) {
        int b0 = b[i] & 0xFF;
        if (b0 < 0x80) {
            return 1;
        }
        int n;
        int min2 = 0x80;
        int max2 = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            n = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            n = 3;
            if (b0 == 0xE0) {
                min2 = 0xA0;
            } else if (b0 == 0xED) {
                max2 = 0x9F;
            }
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            n = 4;
            if (b0 == 0xF0) {
                min2 = 0x90;
            } else if (b0 == 0xF4) {
                max2 = 0x8F;
            }
        } else {
            return 0;
        }
        if (i + n > b.length) {
            return 0;
        }
        int b1 = b[i + 1] & 0xFF;
        if (b1 < min2 || b1 > max2) {
            return 0;
        }
        for (int k = 2; k < n; k++) {
            int bk = b[i + k] & 0xFF;
            if (bk < 0x80 || bk > 0xBF) {
                return 0;
            }
        }
        return n;
    }

    private static int codePoint(byte[] b, int i, int n) {
        int b0 = b[i] & 0xFF;
        if (n == 1) {
            return b0;
        }
        int cp = b0 & (0xFF >> (n + 1));
        for (int k = 1; k < n; k++) {
            cp = cp << 6 | (b[i + k] & 0x3F);
        }
        return cp;
    }

    private static void hexEscape(StringBuilder sb, int b) {
        sb.append("\\x").append(HEX_DIGITS[b >> 4]).append(HEX_DIGITS[b & 0xF]);
    }
}

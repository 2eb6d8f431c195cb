package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.util.HashMap;
import java.util.Map;

/**
 * The jsonl entry format of {@code dump} and {@code load}: one JSON object per line,
 * {@code {"key":"...","value":"..."}} where the bytes are valid UTF-8, else {@code "key_hex"} or
 * {@code "value_hex"} with lower-case hex. Reading accepts exactly these four fields, one of each
 * pair, with string values; anything else is a bad line.
 */
final class JsonLines {
    private JsonLines() {
    }

    /** One entry as one line of JSON, without the line end. */
    static String format(byte[] key, byte[] value) {
        return "{" + field("key", key) + "," + field("value", value) + "}";
    }

    private static String field(String name, byte[] bytes) {
        return TsvEscapes.isUtf8(bytes)
                ? Json.quote(name) + ":" + Json.quote(new String(bytes, UTF_8))
                : Json.quote(name + "_hex") + ":" + Json.quote(ByteStrings.hex(bytes));
    }

    /** Key and value of a line; throws IllegalArgumentException naming what is wrong. */
    static byte[][] parse(String line) {
        Map<String, String> fields = new Parser(line).object();
        for (String name : fields.keySet()) {
            if (!name.equals("key") && !name.equals("key_hex") && !name.equals("value") && !name.equals("value_hex")) {
                throw new IllegalArgumentException("unknown field \"" + name
                        + "\"; an entry has \"key\" or \"key_hex\" and \"value\" or \"value_hex\"");
            }
        }
        return new byte[][] {bytes(fields, "key"), bytes(fields, "value")};
    }

    private static byte[] bytes(Map<String, String> fields, String name) {
        String text = fields.get(name);
        String hex = fields.get(name + "_hex");
        if ((text == null) == (hex == null)) {
            throw new IllegalArgumentException(text == null
                    ? "no \"" + name + "\" or \"" + name + "_hex\" field"
                    : "both \"" + name + "\" and \"" + name + "_hex\" fields");
        }
        if (hex != null) {
            return ByteStrings.fromArgument(hex, true);
        }
        try {
            var encoded = UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text));
            byte[] b = new byte[encoded.remaining()];
            encoded.get(b);
            return b;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("\"" + name + "\" has an unpaired surrogate; use \"" + name
                    + "_hex\" for bytes that are not UTF-8");
        }
    }

    /** A strict parser for one flat JSON object whose values are strings. */
    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        Map<String, String> object() {
            Map<String, String> m = new HashMap<>();
            space();
            expect('{');
            space();
            if (peek() == '}') {
                i++;
            } else {
                while (true) {
                    space();
                    String name = string();
                    space();
                    expect(':');
                    space();
                    if (peek() != '"') {
                        throw error("the value of \"" + name + "\" is not a string");
                    }
                    if (m.put(name, string()) != null) {
                        throw error("field \"" + name + "\" appears twice");
                    }
                    space();
                    if (peek() == ',') {
                        i++;
                    } else {
                        expect('}');
                        break;
                    }
                }
            }
            space();
            if (i != s.length()) {
                throw error("text after the object");
            }
            return m;
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw error("control character in a string");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char e = s.charAt(i++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("\\u needs four hex digits");
                        }
                        int cp = 0;
                        for (int k = 0; k < 4; k++) {
                            int d = Character.digit(s.charAt(i + k), 16);
                            if (d < 0) {
                                throw error("\\u needs four hex digits");
                            }
                            cp = cp << 4 | d;
                        }
                        b.append((char) cp);
                        i += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
        }

        private char peek() {
            if (i >= s.length()) {
                throw error("unexpected end of line");
            }
            return s.charAt(i);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        private void space() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\r')) {
                i++;
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("not a JSON entry: " + what + " at column " + (i + 1));
        }
    }
}

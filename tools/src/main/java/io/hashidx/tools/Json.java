package io.hashidx.tools;

import java.util.List;
import java.util.Map;

/**
 * Writes the {@code --json} outputs: one pretty-printed JSON value built from {@link Map}s (in their
 * iteration order: pass a LinkedHashMap), {@link List}s, {@code long[]}, strings, numbers, booleans
 * and null. Arrays of plain values stay on one line. Non-finite doubles are written as null.
 */
final class Json {
    private final StringBuilder sb = new StringBuilder();

    private Json() {
    }

    static String write(Object value) {
        Json json = new Json();
        json.value(value, 0);
        return json.sb.toString();
    }

    private void value(Object v, int depth) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> string(s);
            case Boolean b -> sb.append(b);
            case Double d -> sb.append(Double.isFinite(d) ? d.toString() : "null");
            case Float f -> value(f.doubleValue(), depth);
            case Number n -> sb.append(n.longValue());
            case long[] a -> {
                sb.append('[');
                for (int i = 0; i < a.length; i++) {
                    sb.append(i == 0 ? "" : ", ").append(a[i]);
                }
                sb.append(']');
            }
            case Map<?, ?> m -> object(m, depth);
            case List<?> l -> array(l, depth);
            default -> throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
        }
    }

    private void object(Map<?, ?> m, int depth) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            sb.append(first ? "\n" : ",\n");
            first = false;
            indent(depth + 1);
            string(e.getKey().toString());
            sb.append(": ");
            value(e.getValue(), depth + 1);
        }
        sb.append('\n');
        indent(depth);
        sb.append('}');
    }

    private void array(List<?> l, int depth) {
        boolean flat = l.stream().noneMatch(e -> e instanceof Map || e instanceof List || e instanceof long[]);
        sb.append('[');
        for (int i = 0; i < l.size(); i++) {
            if (flat) {
                sb.append(i == 0 ? "" : ", ");
            } else {
                sb.append(i == 0 ? "\n" : ",\n");
                indent(depth + 1);
            }
            value(l.get(i), depth + 1);
        }
        if (!flat && !l.isEmpty()) {
            sb.append('\n');
            indent(depth);
        }
        sb.append(']');
    }

    /** {@code s} as one JSON string literal, quotes included. */
    static String quote(String s) {
        Json json = new Json();
        json.string(s);
        return json.sb.toString();
    }

    private void indent(int depth) {
        sb.append("  ".repeat(depth));
    }

    private void string(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}

package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesNestedValuesThatParseBack() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("s", "quote \" backslash \\ tab \t newline \n bell \u0007 \u00e9");
        o.put("n", 42L);
        o.put("i", 7);
        o.put("d", 0.25);
        o.put("nan", Double.NaN);
        o.put("b", true);
        o.put("null", null);
        o.put("longs", new long[] {1, 2, 3});
        o.put("list", List.of("a", 1L));
        o.put("objects", List.of(Map.of("k", 1L)));
        o.put("empty", Map.of());
        o.put("none", List.of());

        String json = Json.write(o);

        assertThat(MiniJson.parse(json)).isEqualTo(new LinkedHashMap<>() {
            {
                put("s", "quote \" backslash \\ tab \t newline \n bell \u0007 \u00e9");
                put("n", 42L);
                put("i", 7L);
                put("d", 0.25);
                put("nan", null);
                put("b", true);
                put("null", null);
                put("longs", List.of(1L, 2L, 3L));
                put("list", List.of("a", 1L));
                put("objects", List.of(Map.of("k", 1L)));
                put("empty", Map.of());
                put("none", List.of());
            }
        });
        assertThat(json).startsWith("{\n  \"s\": ").contains("\"longs\": [1, 2, 3],\n", "bell \\u0007 ");
    }
}

package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FORMAT.md is the contract: its worked example ("A tiny file, byte by byte") must be exactly what
 * the engine writes. Every hex dump line of that section is compared with the file the example's
 * code produces; bytes the example does not list must be zero, as it says.
 */
class FormatExampleTest {
    private static final Pattern DUMP_LINE = Pattern.compile("^([0-9a-f]{8}): ((?:[0-9a-f]{4} ){7}[0-9a-f]{4})");

    @Test
    void theTinyFileOfFormatMdIsWhatTheEngineWritesByteForByte(@TempDir Path dir) throws IOException {
        List<String> section = exampleSection();
        Path path = dir.resolve("tiny.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(4, 4).seed(1))) {
            idx.put(ascii("ab"), ascii("x"));
            idx.put(ascii("cat"), ascii("meow"));
        }
        byte[] file = Files.readAllBytes(path);
        assertThat(String.join("\n", section)).contains("The file is 4096 + 2 * 128 = " + file.length + " bytes");
        assertThat(file).hasSize(4352);
        assertThat(Arrays.copyOfRange(file, Header.COPY_B, Header.COPY_B + Header.COPY_SIZE))
                .as("header copy B is identical to copy A").isEqualTo(Arrays.copyOfRange(file, 0, Header.COPY_SIZE));

        boolean[] listed = new boolean[file.length];
        int lines = 0;
        for (String line : section) {
            Matcher m = DUMP_LINE.matcher(line);
            if (!m.find()) {
                continue;
            }
            int offset = Integer.parseInt(m.group(1), 16);
            byte[] expected = HexFormat.of().parseHex(m.group(2).replace(" ", ""));
            assertThat(Arrays.copyOfRange(file, offset, offset + 16)).as("FORMAT.md line: %s", line).isEqualTo(expected);
            Arrays.fill(listed, offset, offset + 16, true);
            lines++;
        }
        assertThat(lines).as("hex dump lines in the example").isGreaterThanOrEqualTo(15);
        for (int i = 0; i < file.length; i++) {
            boolean copyB = i >= Header.COPY_B && i < Header.COPY_B + Header.COPY_SIZE;
            if (!listed[i] && !copyB) {
                assertThat(file[i]).as("byte at offset 0x%x, not listed in the example, is zero", i).isZero();
            }
        }
        assertThat(Hashing.hash(ascii("ab"), 1)).isEqualTo(0x15d0b33c2a848c6fL);
        assertThat(Hashing.hash(ascii("cat"), 1)).isEqualTo(0x314dd973576d771fL);
    }

    /** The lines of FORMAT.md's section 10, found from the module directory the tests run in. */
    private static List<String> exampleSection() throws IOException {
        Path format = Path.of("..", "FORMAT.md");
        assertThat(format).as("FORMAT.md at the repository root (tests run in store/)").exists();
        List<String> all = Files.readAllLines(format, StandardCharsets.UTF_8);
        int start = -1;
        int end = all.size();
        for (int i = 0; i < all.size(); i++) {
            String line = all.get(i);
            if (line.startsWith("## ") && line.contains("A tiny file, byte by byte")) {
                start = i;
            } else if (start >= 0 && line.startsWith("## ")) {
                end = i;
                break;
            }
        }
        assertThat(start).as("section \"A tiny file, byte by byte\" in FORMAT.md").isNotNegative();
        return all.subList(start, end);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

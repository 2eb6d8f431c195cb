package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {
    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void load() throws IOException {
        file = dir.resolve("x.hidx");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            sb.append("k").append(i).append('\t').append("v").append(i).append('\n');
        }
        Path input = Files.writeString(dir.resolve("in.tsv"), sb);
        assertThat(Cli.run("load", file.toString(), input.toString()).exitCode()).isZero();
    }

    @Test
    void aSoundFileIsOk() {
        assertThat(Cli.run("verify", file.toString())).isEqualTo(new Cli(0, "ok\n", ""));
        assertThat(Cli.run("verify", "--json", file.toString()).json())
                .isEqualTo(Map.of("path", file.toString(), "ok", true, "problems", List.of()));
    }

    @Test
    void zeroedBucketsAreReportedAsProblemsWithExit1() throws IOException {
        Map<String, Object> inspected = Cli.run("inspect", "--json", file.toString()).json();
        long pageBytes = (Long) inspected.get("page_bytes");
        long buckets = (Long) inspected.get("buckets");
        // the bucket array follows the header page; zero a run of buckets in its middle, headers untouched
        long from = 4096 + pageBytes * (buckets / 4);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate((int) (pageBytes * (buckets / 2))), from);
        }

        Cli verify = Cli.run("verify", file.toString());
        Cli json = Cli.run("verify", "--json", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).isNotEqualTo("ok\n").isNotEmpty();
        assertThat(verify.out()).contains("count is 2000 but ");
        assertThat(json.exitCode()).isEqualTo(1);
        assertThat(json.json()).containsEntry("ok", false);
        assertThat((List<?>) json.json().get("problems")).hasSize((int) verify.out().lines().count());
    }
}

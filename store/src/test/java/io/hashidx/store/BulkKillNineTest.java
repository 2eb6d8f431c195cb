package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills (SIGKILL) a child JVM in the middle of a bulk build, in each phase, and checks that the
 * target was not created, that the killed build's temporary files are there, and that the next build
 * of the same target deletes them and writes a complete file.
 */
class BulkKillNineTest {
    private static final long RECORDS = 400_000;
    /** 4 MiB: runs of about 1.5 MiB, so the child spills a run every ~35,000 records. */
    private static final long MEMORY = BulkBuilder.MIN_MEMORY;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"adding", "partitioning", "writing", "written"})
    void killNineInEveryPhaseLeavesNoTargetAndTheNextBuildCleansUp(String phase) throws Exception {
        Path target = dir.resolve("bulk.hidx");
        killDuring(target, phase);

        assertThat(target).as("target after a kill while %s", phase).doesNotExist();
        List<String> left = leftovers();
        assertThat(left).as("the killed build's temporary files").anyMatch(n -> n.endsWith(BulkFiles.TEMP_SUFFIX));
        if (!phase.equals("written")) {
            assertThat(left).as("runs spilled before the kill").anyMatch(n -> n.contains(BulkFiles.RUN_SUFFIX));
        }

        Map<Bytes, byte[]> model = new HashMap<>();
        try (BulkBuilder b = HashIndex.bulkBuilder(target, Options.widths(16, 16).seed(BulkBuildWorkload.SEED))
                .memory(MEMORY)) {
            assertThat(leftovers()).as("after the next build started").containsExactly(b.temporaryFile().getFileName().toString());
            for (long i = 0; i < RECORDS; i++) {
                BulkBuildWorkload.add(b, i, RECORDS);
            }
            b.build();
        }
        long distinct = RECORDS - RECORDS / 10;
        for (long i = 0; i < distinct; i++) {
            model.put(Bytes.of(BulkBuildWorkload.key(i)), BulkBuildWorkload.value(i, i < RECORDS / 10 ? 1 : 0));
        }
        assertThat(leftovers()).isEmpty();
        try (HashIndex idx = HashIndex.openReadOnly(target)) {
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 3, "rebuilt after a kill while " + phase);
        }
    }

    private List<String> leftovers() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.contains(BulkFiles.MARK)).toList();
        }
    }

    /** Runs the child until it reports that it stopped in {@code phase}, then kills it with SIGKILL. */
    private void killDuring(Path target, String phase) throws Exception {
        Path stderr = dir.resolve("child-stderr.txt");
        Process child = start(target, phase, stderr);
        boolean stopped = false;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; !stopped && (line = out.readLine()) != null; ) {
                stopped = line.equals("STOPPED " + phase);
            }
            child.toHandle().destroyForcibly(); // SIGKILL on Linux
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("child died").isTrue();
        }
        assertThat(stopped).as("child reached %s; stderr: %s", phase, Files.readString(stderr)).isTrue();
        Files.delete(stderr);
    }

    private Process start(Path target, String phase, Path stderr) throws IOException, URISyntaxException {
        List<String> command = new ArrayList<>(List.of(ChildJvm.java(), "-Xmx128m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", ChildJvm.classPath(BulkBuildWorkload.class),
                BulkBuildWorkload.class.getName(), target.toString(), Long.toString(RECORDS), Long.toString(MEMORY),
                phase));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(stderr.toFile())).start();
    }
}

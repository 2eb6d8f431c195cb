package io.hashidx.store;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tmpfs of a few MiB mounted on an empty directory for one test, so the test can fill a real file
 * system. Mounting needs root (CI runs as root); without it the test fails with the reason, it never
 * skips. A filler file takes whatever space is left, and deleting it frees the space again.
 */
final class SmallTmpfs implements AutoCloseable {
    private final Path dir;
    private final Path filler;

    private SmallTmpfs(Path dir) {
        this.dir = dir;
        this.filler = dir.resolve("filler");
    }

    /** Mounts a tmpfs of {@code bytes} bytes on {@code dir} (created if needed). */
    static SmallTmpfs mount(Path dir, long bytes) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String[] result = run(List.of("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString()));
        if (!result[0].equals("0")) {
            fail("this test fills a small tmpfs that it mounts itself, which needs root (CI runs as root); "
                    + "running as user '" + System.getProperty("user.name") + "', `mount -t tmpfs -o size=" + bytes
                    + " tmpfs " + dir + "` exited with " + result[0] + ": " + result[1].strip()
                    + ". Run the build as root (or in a container allowed to mount tmpfs).");
        }
        return new SmallTmpfs(dir);
    }

    Path dir() {
        return dir;
    }

    /** Writes a filler file until the file system refuses more; returns its size. */
    long fill() throws IOException {
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer block = ByteBuffer.allocateDirect(4096);
            try {
                while (true) {
                    block.clear();
                    while (block.hasRemaining()) {
                        ch.write(block);
                    }
                }
            } catch (IOException full) {
                if (!String.valueOf(full.getMessage()).contains("No space left")) {
                    throw full;
                }
            }
            return ch.size();
        }
    }

    /** Deletes the filler file. */
    void free() throws IOException {
        Files.deleteIfExists(filler);
    }

    long usableSpace() throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        String[] result = run(List.of("umount", dir.toString()));
        if (!result[0].equals("0")) {
            run(List.of("umount", "-l", dir.toString()));
            fail("could not unmount the test tmpfs at " + dir + ": " + result[1].strip());
        }
    }

    /** Exit code and combined output of a command. */
    private static String[] run(List<String> command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new String[] {"not started", e.getMessage()};
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new String[] {"timeout", out};
        }
        return new String[] {Integer.toString(p.exitValue()), out};
    }
}

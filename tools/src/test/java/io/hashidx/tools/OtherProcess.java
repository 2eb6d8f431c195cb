package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hashidx.store.HashIndex;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM that holds an index file open, for writing or read-only, until it is closed: what
 * another user's process does to a file that a command wants to read or replace.
 *
 * <pre>
 *   java ... io.hashidx.tools.OtherProcess write|read FILE   open, print "open", wait for end of stdin, close
 * </pre>
 */
final class OtherProcess implements AutoCloseable {
    private final Process process;

    private OtherProcess(Process process) {
        this.process = process;
    }

    /** Starts the child and returns once it holds {@code file}. */
    static OtherProcess holding(Path file, boolean write) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), OtherProcess.class.getName(),
                write ? "write" : "read", file.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String first = new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8)).readLine();
        if (!"open".equals(first)) {
            p.destroyForcibly();
            throw new AssertionError("the child process could not open " + file + ": " + first);
        }
        return new OtherProcess(p);
    }

    /** Lets the child close the file and waits until it has exited. */
    @Override
    public void close() throws IOException, InterruptedException {
        process.getOutputStream().close();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the child process did not exit");
        }
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[1]);
        try (HashIndex idx = args[0].equals("write") ? HashIndex.open(file) : HashIndex.openReadOnly(file)) {
            System.out.println("open");
            System.out.flush();
            System.in.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }
}

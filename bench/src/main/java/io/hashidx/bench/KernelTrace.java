package io.hashidx.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A kernel trace of one benchmark run, for {@code bench/run --stalls}: an instance of the kernel's
 * tracing file system ({@code /sys/kernel/tracing/instances/}, needs root) that records, on the
 * {@code mono} clock (CLOCK_MONOTONIC, {@code System.nanoTime()}'s):
 * <ul>
 *   <li>every {@code sched_switch} of the machine, so that each time the putting thread leaves its CPU
 *       shows how (preempted while runnable, sleeping, waiting for I/O) and which thread ran instead,
 *       with the kernel stack of the putting thread at that moment (for JMH's worker threads, whose
 *       name the kernel truncates to {@value #WORKER_COMM});
 *   <li>the file system calls of those worker threads that can take long ({@code fallocate},
 *       {@code mmap}, {@code munmap}, {@code madvise}, {@code msync}, {@code fsync}, {@code fdatasync},
 *       {@code ftruncate}), entry and exit, and the memory management they may do on
 *       their own time (direct reclaim, compaction);
 *   <li>their {@code sched_stat_runtime}: the CPU time the kernel charges them at each tick and switch.
 *       With paravirtual steal accounting (a KVM guest) that time leaves out what the hypervisor took:
 *       a thread that stayed on its CPU for 10 ms but was charged 1 ms lost 9 ms to steal.
 * </ul>
 * Where {@code perf} is installed it also samples every CPU's stack 997 times a second on the
 * {@code cpu-clock} software event (no hardware counters needed, so it works in a virtual machine), on
 * the same clock, and keeps the worker threads' samples as text beside the trace: what a thread that
 * stayed on its CPU was running (the store's code, or the kernel serving its page faults).
 * {@link io.hashidx.bench.report.Stalls} reads the text this writes.
 */
final class KernelTrace implements AutoCloseable {
    /** The kernel keeps 15 bytes of a thread's name: what JMH's worker threads of this suite are called. */
    static final String WORKER_COMM = (KernelTrace.class.getPackageName() + ".").substring(0, 15);
    private static final Path TRACEFS = Path.of("/sys/kernel/tracing");
    // not pwrite64: LMDB writes once per put, and so many events overran the buffer
    private static final List<String> SYSCALLS = List.of("fallocate", "mmap", "munmap", "madvise", "msync", "fsync",
            "fdatasync", "ftruncate");
    /** Trace buffer of the whole machine, split over its CPUs (at least 16 MiB each). */
    private static final long BUFFER_KB = 262_144;
    private static final String INSTANCE_PREFIX = "hashidx-bench-";
    private static final String STACK_TRIGGER = "stacktrace if prev_comm == \"" + WORKER_COMM + "\"";

    private final Path instance;
    private final Path out;
    private Process perf;
    /** Removes the instance and stops perf if the suite is killed before {@link #close()}. */
    private final Thread cleanup = new Thread(this::remove, "hashidx-bench-trace-cleanup");

    private KernelTrace(Path instance, Path out) {
        this.instance = instance;
        this.out = out;
    }

    /** {@code <run>.perf.txt} beside {@code <run>.trace}. */
    static Path samplesOf(Path trace) {
        return besideTrace(trace, ".perf.txt");
    }

    private static Path besideTrace(Path trace, String suffix) {
        String name = trace.getFileName().toString();
        return trace.resolveSibling(name.substring(0, name.length() - ".trace".length()) + suffix);
    }

    private Path perfData() {
        return besideTrace(out, ".perf.data");
    }

    private Path perfLog() {
        return besideTrace(out, ".perf.log");
    }

    /** Starts {@code perf record} on every CPU, or leaves it out (printing why) where perf does not run. */
    private void startSampling() {
        try {
            Process p = new ProcessBuilder("perf", "record", "-q", "--no-buildid", "-e", "cpu-clock", "-F", "997", "-a",
                    "-g", "-k", "CLOCK_MONOTONIC", "-o", perfData().toString())
                    .redirectErrorStream(true).redirectOutput(perfLog().toFile())
                    .start();
            Thread.sleep(500);
            if (!p.isAlive()) {
                System.out.println("# --stalls: perf record exited (" + p.exitValue() + ", see " + perfLog() + "): no CPU samples");
                return;
            }
            perf = p;
        } catch (IOException e) {
            System.out.println("# --stalls: no perf on the PATH: no CPU samples");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops perf and keeps the worker threads' samples as text ({@code perf script}); drops the binary data. */
    private void stopSampling() throws IOException {
        if (perf == null) {
            return;
        }
        try {
            perf.destroy(); // SIGTERM: perf record finishes its file and exits
            if (!perf.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                perf.destroyForcibly();
                System.out.println("# --stalls: perf record did not stop; no CPU samples");
                return;
            }
            Process script = new ProcessBuilder("perf", "script", "-i", perfData().toString(), "--ns", "--comms",
                    WORKER_COMM, "-F", "tid,time,ip,sym")
                    .redirectOutput(samplesOf(out).toFile())
                    .redirectError(ProcessBuilder.Redirect.appendTo(perfLog().toFile())).start();
            if (!script.waitFor(10, java.util.concurrent.TimeUnit.MINUTES) || script.exitValue() != 0) {
                script.destroyForcibly();
                Files.deleteIfExists(samplesOf(out)); // a partial file would pass for all the samples
                System.out.println("# --stalls: perf script failed (see " + perfLog() + "): no CPU samples");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Files.deleteIfExists(perfData());
            Files.deleteIfExists(perfData().resolveSibling(perfData().getFileName() + ".old"));
        }
    }

    /**
     * Starts a trace whose text {@link #close()} writes to {@code out}; empty, with the reason printed,
     * where the kernel's tracing file system is not there or not writable (not root, not Linux).
     */
    static Optional<KernelTrace> start(Path out) {
        Path instances = TRACEFS.resolve("instances");
        if (!Files.isDirectory(instances) || !Files.isWritable(instances)) {
            System.out.println("# --stalls: no kernel trace (" + instances + " is missing or not writable: tracefs must be"
                    + " mounted there and the suite run as root); JFR only");
            return Optional.empty();
        }
        removeStale(instances);
        Path dir = instances.resolve(INSTANCE_PREFIX + ProcessHandle.current().pid());
        try {
            if (Files.isDirectory(dir)) {
                Files.delete(dir);
            }
            Files.createDirectory(dir);
            KernelTrace t = new KernelTrace(dir, out);
            try {
                t.write("trace_clock", "mono");
                t.write("buffer_size_kb", Long.toString(Math.max(16_384, BUFFER_KB / Runtime.getRuntime().availableProcessors())));
                t.write("events/sched/sched_switch/trigger", STACK_TRIGGER);
                t.write("events/sched/sched_switch/enable", "1");
                List<String> workerEvents = new java.util.ArrayList<>(List.of("sched/sched_stat_runtime",
                        "vmscan/mm_vmscan_direct_reclaim_begin", "vmscan/mm_vmscan_direct_reclaim_end",
                        "compaction/mm_compaction_begin", "compaction/mm_compaction_end"));
                for (String call : SYSCALLS) {
                    workerEvents.add("syscalls/sys_enter_" + call);
                    workerEvents.add("syscalls/sys_exit_" + call);
                }
                for (String event : workerEvents) { // those the kernel has, for the JMH workers only
                    if (Files.isDirectory(dir.resolve("events").resolve(event))) {
                        t.write("events/" + event + "/filter", "comm == \"" + WORKER_COMM + "\"");
                        t.write("events/" + event + "/enable", "1");
                    }
                }
                t.write("tracing_on", "1");
                Runtime.getRuntime().addShutdownHook(t.cleanup);
                t.startSampling();
            } catch (IOException | RuntimeException e) {
                t.remove();
                t.dropHook();
                throw e;
            }
            return Optional.of(t);
        } catch (IOException e) {
            System.out.println("# --stalls: no kernel trace (" + e + "); JFR only");
            return Optional.empty();
        }
    }

    /** Stops the trace, writes its text and the events the buffer lost to {@code out}, and removes the instance. */
    @Override
    public void close() throws IOException {
        try {
            write("tracing_on", "0"); // first: converting the samples takes a while, and the machine goes on
            stopSampling();
            Files.createDirectories(out.getParent());
            // a plain read loop: transferTo between two files would use copy_file_range, which copies
            // nothing from a tracefs file (its size reads as 0)
            try (InputStream in = Files.newInputStream(instance.resolve("trace"));
                 OutputStream o = Files.newOutputStream(out)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    o.write(buf, 0, n);
                }
            }
            String lost = lostEvents();
            if (!lost.isEmpty()) {
                System.out.println("# --stalls: the trace buffer overran (" + lost + "): " + out + " misses events");
            }
        } finally {
            remove();
            dropHook();
        }
    }

    private void dropHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNotAdded) {
            // the hook runs (or never was added): nothing to undo
        }
    }

    /** Instances an earlier suite left behind when it was killed (its process is gone): turned off and removed. */
    private static void removeStale(Path instances) {
        try (var dirs = Files.list(instances)) {
            for (Path d : dirs.toList()) {
                String name = d.getFileName().toString();
                if (name.startsWith(INSTANCE_PREFIX)) {
                    long pid = Long.parseLong(name.substring(INSTANCE_PREFIX.length()));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        new KernelTrace(d, d).remove();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            System.out.println("# --stalls: could not check " + instances + " for stale instances: " + e);
        }
    }

    /** "cpu0 12, cpu1 3" for each CPU whose buffer overwrote events; empty when none did. */
    private String lostEvents() throws IOException {
        StringBuilder sb = new StringBuilder();
        Path perCpu = instance.resolve("per_cpu");
        if (!Files.isDirectory(perCpu)) {
            return "";
        }
        try (var cpus = Files.list(perCpu)) {
            for (Path cpu : cpus.sorted().toList()) {
                for (String line : Files.readAllLines(cpu.resolve("stats"), StandardCharsets.US_ASCII)) {
                    if (line.startsWith("overrun:") && !line.substring(8).trim().equals("0")) {
                        sb.append(sb.isEmpty() ? "" : ", ").append(cpu.getFileName()).append(' ').append(line.substring(8).trim());
                    }
                }
            }
        }
        return sb.toString();
    }

    /** Turns every event off and removes the instance (the kernel frees its buffers). */
    private void remove() {
        if (perf != null && perf.isAlive()) {
            perf.destroyForcibly();
        }
        try {
            write("tracing_on", "0");
            write("events/sched/sched_switch/trigger", "!" + STACK_TRIGGER);
            write("events/enable", "0");
        } catch (IOException | RuntimeException ignored) {
            // removing the instance below is what matters; it fails only if an event is still on
        }
        try {
            Files.deleteIfExists(instance);
        } catch (IOException e) {
            System.out.println("# --stalls: could not remove " + instance + " (" + e + "): rmdir it by hand");
        }
    }

    private void write(String file, String value) throws IOException {
        Files.writeString(instance.resolve(file), value + "\n", StandardCharsets.US_ASCII);
    }
}

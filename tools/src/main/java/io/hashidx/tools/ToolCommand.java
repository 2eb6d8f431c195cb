package io.hashidx.tools;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every command shares: the {@code out} and {@code err} writers that {@link Main#run} hands to
 * picocli, and a way to report a usage error (exit code 2) found after parsing.
 */
abstract class ToolCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Results: values, summaries, reports. */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Errors, "not found" notes and progress. */
    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A usage error found after parsing (a bad hex string, widths that contradict the file, ...). */
    ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}

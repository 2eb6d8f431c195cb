package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hashidx.store.HashIndexException;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The {@code hashidx} command line. Each subcommand is one class that writes to the {@code out} and
 * {@code err} writers given to {@link #run}, so tests run commands in-process and read their output.
 * Commands call only the store's public API ({@code HashIndex}, {@code Options}, {@code Inspection}, {@code Plan}).
 */
@Command(name = "hashidx", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"A persistent on-disk hash index: byte-string keys and values of any length up to 16 MiB (the "
                + "default) or of fixed widths, in one file.", ""},
        subcommands = {
            CreateCommand.class,
            LoadCommand.class,
            DumpCommand.class,
            GetCommand.class,
            PutCommand.class,
            DeleteCommand.class,
            InspectCommand.class,
            VerifyCommand.class,
            PlanCommand.class,
            CompactCommand.class,
            BackupCommand.class,
            RecoverCommand.class,
            TortureCommand.class,
            GenCommand.class,
            HelpCommand.class},
        commandListHeading = "Commands:%n",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:a key was not found (get, delete) or verify found problems; recover lost entries; torture found a loss",
            "2:error: a usage error, a hashidx error (the message starts with its stable code, e.g. "
                    + "'HIDX-004 locked: ...'), or bad load input (a bad line, an input that cannot be read)"},
        footer = {"", "Errors are one line on stderr naming the file and what to do; --verbose (or "
                + "HASHIDX_DEBUG=1) adds the stack trace.",
            "Run 'hashidx COMMAND --help' for a command's options."})
public final class Main {
    public static final int OK = 0;
    /** A key was not found (get, delete), verify found problems, recover lost entries, torture found a loss. */
    public static final int NOT_FOUND_OR_PROBLEMS = 1;
    /** Every error: usage, an error from the index (with its stable HIDX code), bad load input. */
    public static final int ERROR = 2;
    public static final int USAGE_ERROR = ERROR;
    public static final int HASHIDX_ERROR = ERROR;
    public static final int INPUT_DATA_ERROR = ERROR;

    @picocli.CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "on an error, print the stack trace too (as HASHIDX_DEBUG=1 does)")
    boolean verbose;

    private Main() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new BufferedWriter(
                new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), UTF_8), 1 << 16));
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), UTF_8));
        int code = run(out, err, args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line; returns the exit code. Everything is written to {@code out} and {@code err}. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler(Main::failure);
        giveEveryCommandTheVersion(cl);
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** So that {@code hashidx COMMAND --version} prints the version too, not an empty line. */
    private static void giveEveryCommandTheVersion(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            CommandLine.Model.CommandSpec spec = sub.getCommandSpec();
            if (spec.versionProvider() == null && spec.version().length == 0) {
                spec.versionProvider(new Version());
            }
            giveEveryCommandTheVersion(sub);
        }
    }

    private static int usageError(ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        debug(err, e, java.util.Arrays.asList(args).contains("--verbose"));
        String command = e.getCommandLine().getCommandSpec().qualifiedName();
        err.println(command + ": " + e.getMessage() + " (see '" + command + " --help')");
        return USAGE_ERROR;
    }

    private static int failure(Exception e, CommandLine command, ParseResult parsed) {
        PrintWriter err = command.getErr();
        boolean verbose = verbose(command);
        debug(err, e, verbose);
        if (e instanceof HashIndexException) {
            err.println("hashidx: " + e.getMessage());
            return HASHIDX_ERROR;
        }
        if (e instanceof ToolFailure) {
            err.println("hashidx: " + e.getMessage());
            return INPUT_DATA_ERROR;
        }
        err.println("hashidx: unexpected error: " + e
                + (verbose || debugging() ? "" : " (run again with --verbose for the stack trace)"));
        return HASHIDX_ERROR;
    }

    private static boolean debugging() {
        return "1".equals(System.getenv("HASHIDX_DEBUG"));
    }

    /** Whether --verbose was given, on the command or before it. */
    private static boolean verbose(CommandLine command) {
        for (CommandLine c = command; c != null; c = c.getParent()) {
            if (c.getParseResult() != null && c.getParseResult().hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    private static void debug(PrintWriter err, Exception e, boolean verbose) {
        if (verbose || debugging()) {
            e.printStackTrace(err);
        }
    }

    /** The tool's version from the jar's Maven descriptor, and the Java runtime. */
    static final class Version implements IVersionProvider {
        private static final String POM_PROPERTIES = "/META-INF/maven/io.hashidx/hashidx-tools/pom.properties";

        @Override
        public String[] getVersion() {
            String version = "(development build)";
            try (InputStream in = Main.class.getResourceAsStream(POM_PROPERTIES)) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    version = p.getProperty("version", version);
                }
            } catch (IOException e) {
                // keep the development-build label: the version is informational
            }
            return new String[] {
                "hashidx " + version,
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}

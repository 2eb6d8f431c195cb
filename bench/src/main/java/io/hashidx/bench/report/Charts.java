package io.hashidx.bench.report;

import io.hashidx.bench.Peer;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's PNG charts, drawn with XChart. */
final class Charts {
    private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    private Charts() {
    }

    /** A peer's colour, the same in every chart; hashidx stands out. */
    static Color color(Peer p) {
        return switch (p) {
            case HASHIDX -> new Color(0xD6, 0x27, 0x28);
            case HASHMAP -> new Color(0x7F, 0x7F, 0x7F);
            case FASTUTIL -> new Color(0xBC, 0xBD, 0x22);
            case CHRONICLE_MAP -> new Color(0x1F, 0x77, 0xB4);
            case LMDB -> new Color(0x2C, 0xA0, 0x2C);
            case MAPDB -> new Color(0x94, 0x67, 0xBD);
            case ROCKSDB -> new Color(0xFF, 0x7F, 0x0E);
        };
    }

    /** One bar per peer with JMH's error as error bars. */
    record Bar(Peer peer, String label, double value, double error) {
    }

    static void bars(Path file, String title, String yTitle, List<Bar> bars, String subtitle) {
        double max = bars.stream().mapToDouble(Bar::value).max().orElse(1);
        double scale = max >= 1e7 ? 1e6 : max >= 1e4 ? 1e3 : 1;
        String unit = scale == 1e6 ? " (millions)" : scale == 1e3 ? " (thousands)" : "";
        CategoryChart chart = new CategoryChartBuilder().width(900).height(480)
                .title(title + (subtitle.isEmpty() ? "" : " — " + subtitle))
                .xAxisTitle("error bars: JMH's 99.9% half-width, cut at zero").yAxisTitle(yTitle + unit).build();
        CategoryStyler st = chart.getStyler();
        st.setOverlapped(true);
        // the figures are in the report's tables; a label per bar would also print the zeros of the
        // overlapped series
        st.setLabelsVisible(false);
        st.setXAxisLabelRotation(bars.size() > 7 ? 25 : 0);
        st.setAvailableSpaceFill(0.6);
        st.setDecimalPattern("#,##0.##");
        st.setYAxisDecimalPattern("#,##0.##");
        st.setYAxisMin(0.0);
        st.setLegendVisible(false);
        style(st);
        List<String> labels = bars.stream().map(Bar::label).toList();
        // one series per peer, non-zero only at its own category, overlapped: a colour per peer
        for (Bar b : bars) {
            double err = Double.isNaN(b.error) ? 0 : Math.min(b.error, b.value);
            List<Double> values = bars.stream().map(o -> o == b ? b.value / scale : 0.0).toList();
            List<Double> errors = bars.stream().map(o -> o == b ? err / scale : 0.0).toList();
            chart.addSeries(b.label, labels, values, errors).setFillColor(color(b.peer));
        }
        save(chart, file);
    }

    /** A latency series per peer: x = entries inserted, y = the window's maximum put latency. */
    record Series(Peer peer, String label, double[] x, double[] y, Color color) {
        Series(Peer peer, String label, double[] x, double[] y) {
            this(peer, label, x, y, Charts.color(peer));
        }
    }

    static void latency(Path file, String title, String xTitle, String yTitle, List<Series> series) {
        double max = series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.x)).max().orElse(1);
        double scale = max >= 1e6 ? 1e6 : max >= 1e3 ? 1e3 : 1;
        String unit = scale == 1e6 ? " (millions)" : scale == 1e3 ? " (thousands)" : "";
        XYChart chart = new XYChartBuilder().width(1000).height(560).title(title)
                .xAxisTitle(xTitle + unit).yAxisTitle(yTitle).build();
        XYStyler st = chart.getStyler();
        st.setYAxisLogarithmic(true);
        st.setLegendPosition(Styler.LegendPosition.InsideNW);
        st.setXAxisDecimalPattern("#,##0.##");
        st.setYAxisDecimalPattern("#,##0.###");
        st.setXAxisMaxLabelCount(12);
        style(st);
        // hashidx last, so that its line is drawn over the peers'
        List<Series> ordered = new java.util.ArrayList<>(series.stream().filter(s -> s.peer != Peer.HASHIDX).toList());
        ordered.addAll(series.stream().filter(s -> s.peer == Peer.HASHIDX).toList());
        boolean comparing = series.stream().map(Series::peer).distinct().count() > 1;
        for (Series s : ordered) {
            double[] x = java.util.Arrays.stream(s.x).map(v -> v / scale).toArray();
            XYSeries xy = chart.addSeries(s.label, x, s.y);
            xy.setMarker(SeriesMarkers.NONE);
            boolean faded = comparing && s.peer != Peer.HASHIDX;
            xy.setLineColor(faded ? new Color(s.color.getRed(), s.color.getGreen(), s.color.getBlue(), 110) : s.color);
            xy.setLineStyle(new BasicStroke(faded ? 0.8f : 1.4f));
        }
        save(chart, file);
    }

    private static void style(Styler st) {
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setBaseFont(FONT);
        st.setChartTitleFont(FONT.deriveFont(Font.BOLD, 14f));
        if (st instanceof AxesChartStyler axes) {
            axes.setAxisTitleFont(FONT);
            axes.setAxisTickLabelsFont(FONT);
        }
        st.setLegendFont(FONT);
        st.setAntiAlias(true);
    }

    private static void save(Chart<?, ?> chart, Path file) {
        try {
            String name = file.toString();
            BitmapEncoder.saveBitmap(chart, name.endsWith(".png") ? name.substring(0, name.length() - 4) : name,
                    BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

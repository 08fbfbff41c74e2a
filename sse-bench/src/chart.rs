//! The SVG chart: fan-out latency and memory per connection versus connections.

use std::{io, path::Path};

use plotters::prelude::*;

use crate::{RunResult, Scenario, ServerKind};

const OURS: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const REFERENCE: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// Writes an SVG with two panels: the paced broadcast's fan-out completion (p50 solid, p99
/// dashed) and the idle RSS per connection, each against the number of connections, for both
/// servers.
///
/// # Errors
///
/// The I/O error of writing the file, or a drawing error as `io::Error`.
pub fn write_chart(path: &Path, results: &[RunResult]) -> io::Result<()> {
    draw(path, results).map_err(|err| io::Error::other(err.to_string()))
}

type Points = Vec<(f64, f64)>;

fn series(
    results: &[RunResult],
    scenario: Scenario,
    server: ServerKind,
    value: impl Fn(&RunResult) -> Option<f64>,
) -> Points {
    let mut points: Points = results
        .iter()
        .filter(|r| r.spec.scenario == scenario && r.spec.server == server)
        .filter_map(|r| Some((r.spec.connections as f64, value(r)?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn draw(path: &Path, results: &[RunResult]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(500);

    let fan_out = |p99: bool| {
        move |r: &RunResult| {
            r.fan_out_us
                .map(|p| if p99 { p.p99 } else { p.p50 } / 1000.0)
        }
    };
    let latency = [
        (ServerKind::Ours, false),
        (ServerKind::Ours, true),
        (ServerKind::Reference, false),
        (ServerKind::Reference, true),
    ]
    .map(|(server, p99)| {
        (
            server,
            p99,
            series(results, Scenario::Broadcast, server, fan_out(p99)),
        )
    });
    panel(
        &left,
        "Broadcast fan-out completion (paced)",
        "ms",
        &latency,
    )?;

    let memory = [ServerKind::Ours, ServerKind::Reference].map(|server| {
        (
            server,
            false,
            series(results, Scenario::Idle, server, |r| {
                r.memory.map(|m| m.rss_per_connection / 1024.0)
            }),
        )
    });
    panel(&right, "Idle RSS per connection", "KiB", &memory)?;
    root.present()?;
    Ok(())
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    unit: &str,
    lines: &[(ServerKind, bool, Points)],
) -> Result<(), Box<dyn std::error::Error>> {
    let all = lines.iter().flat_map(|(_, _, points)| points.iter());
    let x_max = all.clone().map(|p| p.0).fold(1.0, f64::max) * 1.1;
    let y_max = all.map(|p| p.1).fold(0.0, f64::max).max(0.001) * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("connections")
        .y_desc(unit)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .light_line_style(TRANSPARENT)
        .draw()?;
    for (server, p99, points) in lines {
        if points.is_empty() {
            continue;
        }
        let color = match server {
            ServerKind::Ours => OURS,
            ServerKind::Reference => REFERENCE,
        };
        let style = color.stroke_width(2);
        let label = match (lines.len() > 2, p99) {
            (false, _) => server.name().to_owned(),
            (true, false) => format!("{} p50", server.name()),
            (true, true) => format!("{} p99 (dashed)", server.name()),
        };
        let drawn = if *p99 {
            chart.draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))?
        } else {
            chart.draw_series(LineSeries::new(points.clone(), style))?
        };
        drawn.label(label).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
        });
        chart.draw_series(
            points
                .iter()
                .map(|&point| Circle::new(point, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

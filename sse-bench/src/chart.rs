//! The SVG chart: fan-out latency and memory per connection versus connections.

use std::{io, path::Path};

use plotters::prelude::*;

use crate::{RunResult, Scenario, ServerKind, summary::Spread};

const OURS: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const REFERENCE: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const NCHAN: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);

/// Writes an SVG with two panels: the paced broadcast's fan-out completion (p50 solid, p99
/// dashed) and the idle memory per connection (PSS, which for a single process agrees with RSS
/// and counts nginx's shared memory once), each against the number of connections, for every
/// server; with repeated runs, each point is the median of its rounds.
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
    let mut all: Points = results
        .iter()
        .filter(|r| r.spec.scenario == scenario && r.spec.server == server)
        .filter_map(|r| Some((r.spec.connections as f64, value(r)?)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut points = Points::new();
    for chunk in all.chunk_by(|a, b| a.0 == b.0) {
        let values = chunk.iter().map(|p| p.1);
        if let Some(spread) = Spread::of(values) {
            points.push((chunk[0].0, spread.median));
        }
    }
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
        (ServerKind::Nchan, false),
        (ServerKind::Nchan, true),
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

    let memory = ServerKind::ALL.map(|server| {
        (
            server,
            false,
            series(results, Scenario::Idle, server, |r| {
                r.memory.map(|m| m.pss_per_connection / 1024.0)
            }),
        )
    });
    panel(&right, "Idle memory (PSS) per connection", "KiB", &memory)?;
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
            ServerKind::Nchan => NCHAN,
        };
        let style = color.stroke_width(2);
        let percentiles = lines.iter().any(|(_, p99, _)| *p99);
        let label = match (percentiles, p99) {
            (false, _) => server.label().to_owned(),
            (true, false) => format!("{} p50", server.label()),
            (true, true) => format!("{} p99 (dashed)", server.label()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Percentiles, RunSpec};

    fn broadcast(server: ServerKind, connections: usize, round: usize, p50_us: f64) -> RunResult {
        let mut spec = RunSpec::idle(Scenario::Broadcast, server, connections);
        spec.round = round;
        let mut result = RunResult::skipped(spec);
        result.fan_out_us = Some(Percentiles {
            count: 100,
            p50: p50_us,
            p90: p50_us,
            p99: p50_us * 2.0,
            max: p50_us * 2.0,
            mean: p50_us,
        });
        result
    }

    #[test]
    fn repeated_points_are_their_median() {
        let results = [
            broadcast(ServerKind::Nchan, 1000, 1, 3000.0),
            broadcast(ServerKind::Nchan, 10_000, 1, 50_000.0),
            broadcast(ServerKind::Nchan, 1000, 2, 1000.0),
            broadcast(ServerKind::Nchan, 1000, 3, 2000.0),
            broadcast(ServerKind::Ours, 1000, 1, 9000.0),
        ];
        let p50 = |r: &RunResult| r.fan_out_us.map(|p| p.p50 / 1000.0);
        assert_eq!(
            series(&results, Scenario::Broadcast, ServerKind::Nchan, p50),
            [(1000.0, 2.0), (10_000.0, 50.0)]
        );
        assert_eq!(
            series(&results, Scenario::Broadcast, ServerKind::Reference, p50),
            []
        );
    }

    #[test]
    fn every_server_gets_a_line() {
        let results: Vec<RunResult> = ServerKind::ALL
            .into_iter()
            .flat_map(|server| [1000, 10_000].map(|n| broadcast(server, n, 1, n as f64 * 10.0)))
            .collect();
        let path = std::env::temp_dir().join(format!(
            "sse-bench-chart-{}-{:016x}.svg",
            std::process::id(),
            fastrand::u64(..)
        ));
        write_chart(&path, &results).expect("the chart is written");
        let svg = std::fs::read_to_string(&path).expect("the chart");
        std::fs::remove_file(&path).expect("removed");
        for label in ["ours p50", "reference p99 (dashed)", "nginx+nchan p50"] {
            assert!(svg.contains(label), "{label}");
        }
    }
}

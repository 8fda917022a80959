//! Draws the wizard from the app state only: header, checklist, step details, footer, and
//! the help, bucket and remedy overlays. Nothing here waits on anything.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::app::{App, AskBucket, AskObject, Modal, Phase, RemedyScreen, UrlScreen};
use super::keys;
use super::paste::ErrorScreen;
use super::theme::{RowState, Theme};
use crate::checks::Status;
use crate::engine::{Row, StepResult};
use crate::finding::{Evidence, Finding, Severity};
use crate::remedy::Plan;
use crate::runbook::{Runbook, StepId, fill};

/// Below this width the checklist and the details stack vertically.
const SIDE_BY_SIDE_MIN_WIDTH: u16 = 80;

pub fn draw(app: &App, f: &mut Frame) {
    let area = f.area();
    let compact = area.height < 24;
    let header_height = if compact { 3 } else { 5 };
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(app, f, header, compact);
    if area.width >= SIDE_BY_SIDE_MIN_WIDTH {
        let [list, detail] =
            Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)])
                .areas(body);
        draw_checklist(app, f, list);
        draw_detail(app, f, detail);
    } else {
        let list_height = (app.rows.len() as u16 + 4).min(body.height / 2).max(3);
        let [list, detail] =
            Layout::vertical([Constraint::Length(list_height), Constraint::Min(0)]).areas(body);
        draw_checklist(app, f, list);
        draw_detail(app, f, detail);
    }
    draw_footer(app, f, footer);
    match &app.modal {
        Some(Modal::Help) => draw_help(app, f, area),
        Some(Modal::AskBucket(ask)) => draw_ask_bucket(app, ask, f, area),
        Some(Modal::AskObject(ask)) => draw_ask_object(app, ask, f, area),
        Some(Modal::Remedy(screen)) => draw_remedy(app, screen, f, area),
        Some(Modal::Url(screen)) => draw_url(app, screen, f, area),
        Some(Modal::Error(screen)) => draw_error(app, screen, f, area),
        None => {}
    }
}

/// The header: who the keys belong to, what is checked, where the keys come from, and the
/// verdict line (in the bottom border, or in place of the keys line when compact).
fn draw_header(app: &App, f: &mut Frame, area: Rect, compact: bool) {
    let t = &app.theme;
    let mut lines = vec![who_line(app), facts_line(app), source_line(app)];
    let verdict = verdict_span(app);
    if compact {
        // No bottom border to carry the verdict: it takes the place of the keys line.
        lines.truncate(2);
        if let Some(v) = &verdict {
            lines[1] = Line::from(v.clone());
        }
    }
    let mut block = Block::default()
        .borders(if compact {
            Borders::TOP
        } else {
            Borders::TOP | Borders::BOTTOM
        })
        .border_type(BorderType::Rounded)
        .title(Span::styled(" s3doctor · S3 access check ", t.accent()));
    // The app's network, when the conditions are judged for it (--source-ip, --vpc, --vpce):
    // on the top border, so that the fact lines keep their place.
    // The VPC is EC2's once the endpoint's read answered (a Session event), as judged.
    if !app.run.network.is_empty() {
        let judged = crate::app_network::Judged::of_session(
            &app.run.network,
            app.session.described_endpoint.as_ref(),
        );
        block = block.title(Line::from(vec![
            Span::styled(" app's network ", t.dim()),
            Span::raw(format!("{} ", judged.describe())),
        ]));
    }
    if let (false, Some(v)) = (compact, verdict) {
        block = block.title_bottom(Line::from(v));
    }
    // One fact line each, cut at the edge rather than wrapped, so that a narrow terminal
    // still shows the keys and the endpoint.
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// Whom the keys belong to, or how far finding out has got.
fn who_line(app: &App) -> Line<'_> {
    let t = &app.theme;
    let who = match &app.session.identity {
        // A role's session: the role a person acts on, and the session.
        Some(i) if i.confirmed && i.principal.session.is_some() && i.role_arn.is_some() => vec![
            Span::styled(i.role_arn.clone().unwrap_or_default(), t.accent()),
            Span::raw(format!(
                "  (role {}, session {}, account {})",
                i.principal.name,
                i.principal.session.as_deref().unwrap_or_default(),
                i.principal.account
            )),
        ],
        Some(i) => vec![
            Span::styled(i.principal.arn.clone(), t.accent()),
            Span::raw(if i.confirmed {
                format!(
                    "  ({} {}, account {})",
                    i.principal.kind.as_str(),
                    i.principal.name,
                    i.principal.account
                )
            } else {
                format!(
                    "  ({} {}, unconfirmed: named by the server)",
                    i.principal.kind.as_str(),
                    i.principal.name
                )
            }),
        ],
        // A step that has finished without an answer is not still going: say so.
        None if finished(app, StepId::Credentials) && app.session.credential_source.is_none() => {
            vec![Span::styled(
                "no usable credentials: see the credentials step",
                t.style(RowState::Done(Status::Fail)),
            )]
        }
        None if finished(app, StepId::Identity) => vec![Span::styled(
            "who the keys belong to is unknown: see the identity step",
            t.style(RowState::Done(Status::Fail)),
        )],
        None if app.session.credential_source.is_some() => {
            vec![Span::styled("checking who the keys belong to…", t.dim())]
        }
        None => vec![Span::styled("resolving credentials…", t.dim())],
    };
    Line::from(who)
}

/// Whether the global step has run to its end (and is not running again).
fn finished(app: &App, step: StepId) -> bool {
    matches!(app.states.get(&Row::global(step)), Some(RowState::Done(_)))
}

/// The bucket(s), the region, the access asked for.
fn facts_line(app: &App) -> Line<'_> {
    let t = &app.theme;
    let region = app
        .session
        .region
        .clone()
        .or_else(|| app.settings.configured_region())
        .unwrap_or_else(|| "(none configured)".into());
    let mut facts = vec![
        Span::styled("bucket ", t.dim()),
        Span::raw(if app.run.buckets.is_empty() {
            "?".to_owned()
        } else {
            app.run.buckets.join(", ")
        }),
        Span::styled("  region ", t.dim()),
        Span::raw(region),
        Span::styled("  access ", t.dim()),
        Span::raw(app.run.access.as_str()),
    ];
    if app.run.read_only {
        facts.push(Span::raw(" (read-only)"));
    }
    Line::from(facts)
}

/// Where the keys come from (as a hint, never the key) and the endpoint.
fn source_line(app: &App) -> Line<'_> {
    let t = &app.theme;
    let mut source = Vec::new();
    if let Some(src) = &app.session.credential_source {
        source.push(Span::styled("keys ", t.dim()));
        let hint = app.session.key_id_hint.clone().unwrap_or_default();
        source.push(Span::raw(format!("{hint} from {src}")));
    }
    source.push(Span::styled("  endpoint ", t.dim()));
    source.push(Span::raw(
        app.settings
            .endpoint
            .clone()
            .unwrap_or_else(|| "AWS (default)".to_owned()),
    ));
    // What a custom endpoint turned out to be when it is not AWS-like (Ceph RGW, …), once the
    // identity step knows.
    if let Some(caps) = app.session.endpoint.as_ref().filter(|c| {
        app.settings.endpoint.is_some()
            && !matches!(
                c.kind,
                crate::endpoint::EndpointKind::Aws | crate::endpoint::EndpointKind::AwsCompatible
            )
    }) {
        source.push(Span::styled(format!(" ({})", caps.kind.label()), t.dim()));
    }
    Line::from(source)
}

/// The verdict (or the hint where to start), styled by its tone.
fn verdict_span(app: &App) -> Option<Span<'static>> {
    let t = &app.theme;
    super::headline::line(app).map(|(tone, text)| {
        let style = match tone {
            super::headline::Tone::Hint => t.accent().add_modifier(Modifier::BOLD),
            super::headline::Tone::Good => t.style(RowState::Done(crate::checks::Status::Pass)),
            super::headline::Tone::Bad => t.style(RowState::Done(crate::checks::Status::Fail)),
        };
        Span::styled(format!(" {text} "), style.add_modifier(Modifier::BOLD))
    })
}

/// The checklist: bucket headings, then a row per step with its state symbol.
fn draw_checklist(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0usize;
    let mut last_bucket: Option<&str> = None;
    for (i, unit) in app.rows.iter().enumerate() {
        if unit.bucket.as_deref() != last_bucket {
            last_bucket = unit.bucket.as_deref();
            if let Some(b) = last_bucket {
                lines.push(Line::from(Span::styled(
                    format!("bucket {b}"),
                    t.dim().add_modifier(Modifier::BOLD),
                )));
            }
        }
        let state = app.row_state(unit);
        let mut spans = vec![
            Span::raw(if unit.bucket.is_some() { "  " } else { "" }),
            Span::styled(Theme::symbol(state, app.tick), t.style(state)),
            Span::raw(" "),
            Span::styled(row_label(unit), t.style(state)),
        ];
        if let RowState::Done(status) = state {
            spans.push(Span::styled(
                format!("  {}", status.as_str()),
                t.style(state),
            ));
        }
        let mut line = Line::from(spans);
        if i == app.selected {
            line = line.style(t.selected());
            selected_line = lines.len();
        }
        lines.push(line);
    }
    let inner_height = area.height.saturating_sub(2) as usize;
    let offset = selected_line.saturating_sub(inner_height.saturating_sub(1));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(" Checklist ");
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(offset).unwrap_or(0), 0)),
        area,
    );
}

/// A row's name in the checklist: the step, and the app's object for an `app-object` row.
fn row_label(unit: &Row) -> String {
    match &unit.key {
        Some(key) => format!("{} {key}", unit.step),
        None => unit.step.as_str().to_owned(),
    }
}

fn step_vars(app: &App, unit: &Row) -> Vec<(&'static str, String)> {
    let bucket = unit.bucket.clone().unwrap_or_else(|| "the bucket".into());
    vec![
        ("bucket", bucket),
        ("key", format!("{}probe-<uuid>", app.run.prefix)),
        (
            "object",
            unit.key
                .clone()
                .unwrap_or_else(|| "the app's object".into()),
        ),
    ]
}

/// The selected step: why it matters, what it calls, and once run, the result, evidence,
/// diagnosis and remedy.
fn draw_detail(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(unit) = app.selected_unit() else {
        f.render_widget(Block::default().borders(Borders::ALL).title(" Step "), area);
        return;
    };
    let def = Runbook::embedded().step(unit.step);
    let vars_owned = step_vars(app, unit);
    let vars: Vec<(&str, &str)> = vars_owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let state = app.row_state(unit);
    let mut lines: Vec<Line> = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", Theme::symbol(state, app.tick)),
                t.style(state),
            ),
            Span::styled(
                fill(&def.title, &vars),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("  [{}]", Theme::label(state)), t.style(state)),
        ]),
        Line::raw(""),
    ];
    if let Some(result) = app.results.get(unit) {
        lines.extend(result_lines(app, result, state));
    }
    lines.push(heading(t, "Why this matters"));
    lines.push(Line::raw(fill(&def.why, &vars)));
    lines.push(Line::raw(""));
    lines.push(heading(t, "What it calls"));
    for call in &def.calls {
        lines.push(Line::raw(format!("  {}", fill(call, &vars))));
    }
    let title = match (&unit.bucket, &unit.key) {
        (Some(b), Some(k)) => format!(" {} · {b}/{k} ", unit.step),
        (Some(b), None) => format!(" {} · {b} ", unit.step),
        (None, _) => format!(" {} ", unit.step),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(title);
    f.render_widget(
        Paragraph::new(Text::from(lines))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0)),
        area,
    );
}

/// A section heading in the details.
fn heading(t: &Theme, s: &str) -> Line<'static> {
    Line::from(Span::styled(s.to_owned(), t.accent()))
}

/// A finished step: its result line, the evidence, and each finding as the whole run explains
/// it (the diagnosis says which stands).
fn result_lines<'a>(app: &'a App, result: &'a StepResult, state: RowState) -> Vec<Line<'a>> {
    let t = &app.theme;
    let mut lines = vec![Line::from(vec![
        Span::styled("Result: ", t.style(state).add_modifier(Modifier::BOLD)),
        Span::styled(result.detail.clone(), t.style(state)),
        Span::styled(format!("  ({} ms)", result.elapsed_ms), t.dim()),
    ])];
    if let Some(ev) = &result.evidence {
        lines.extend(evidence_lines(t, ev));
    }
    for finding in result.findings.iter().map(|f| app.diagnosis.explain(f)) {
        lines.extend(finding_lines(t, finding));
    }
    lines.push(Line::raw(""));
    lines
}

/// What AWS answered: operation, HTTP status, error code, message, request id.
fn evidence_lines(t: &Theme, ev: &Evidence) -> Vec<Line<'static>> {
    let mut lines = vec![heading(t, "Evidence")];
    lines.push(Line::raw(format!("  operation   {}", ev.operation)));
    if let Some(s) = ev.http_status {
        lines.push(Line::raw(format!("  HTTP status {s}")));
    }
    if let Some(c) = &ev.error_code {
        lines.push(Line::raw(format!("  error code  {c}")));
    }
    if let Some(m) = ev.message.as_deref().filter(|m| !m.is_empty()) {
        lines.push(Line::raw(format!("  message     {m}")));
    }
    if let Some(r) = &ev.request_id {
        lines.push(Line::raw(format!("  request id  {r}")));
    }
    lines
}

/// One finding: title, code and basis, summary, the responsible statement, the fix.
fn finding_lines<'a>(t: &Theme, finding: &'a Finding) -> Vec<Line<'a>> {
    let style = if finding.is_error() {
        t.style(RowState::Done(crate::checks::Status::Fail))
    } else {
        t.style(RowState::Done(crate::checks::Status::Warn))
    };
    let mut lines = vec![
        Line::raw(""),
        Line::from(vec![
            Span::styled(
                format!("{} {}", finding.severity.symbol(), finding.title),
                style,
            ),
            Span::styled(format!("  {} · {}", finding.code, finding.basis), t.dim()),
        ]),
        Line::raw(finding.summary.clone()),
    ];
    if let Some(s) = &finding.statement {
        lines.push(Line::from(vec![
            Span::styled("Responsible: ", t.accent()),
            Span::raw(s.label()),
        ]));
    }
    if let Some(v) = &finding.vantages {
        lines.push(Line::from(vec![
            Span::styled("From here: ", t.accent()),
            Span::raw(v.from_here.clone()),
        ]));
        lines.push(Line::from(vec![
            Span::styled(
                format!("From the app's network ({}): ", v.app_network),
                t.accent(),
            ),
            Span::raw(v.from_app_network.clone()),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled("Fix: ", t.fg(Color::Green).add_modifier(Modifier::BOLD)),
        Span::raw(finding.remedy.clone()),
    ]));
    lines
}

fn draw_footer(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let line = match &app.message {
        Some(m) => Line::from(Span::styled(m.clone(), t.accent())),
        None => {
            let mut spans = Vec::new();
            for (k, what) in keys::footer(app.quit_to) {
                spans.push(Span::styled(format!(" {k} "), t.accent()));
                spans.push(Span::raw(format!("{what} ")));
            }
            let errors = app.diagnosis.error_count();
            if errors > 0 {
                spans.push(Span::styled(
                    format!(" {errors} problem(s)"),
                    t.style(RowState::Done(crate::checks::Status::Fail)),
                ));
            }
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

fn centered(area: Rect, width_pct: u16, height_pct: u16) -> Rect {
    let w = (area.width * width_pct / 100).max(20).min(area.width);
    let h = (area.height * height_pct / 100).max(8).min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn draw_help(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let keys: Vec<Line> = keys::help(app.quit_to)
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("  {key:<12}"), t.accent()),
                Span::raw(what),
            ])
        })
        .collect();
    let states = format!(
        "  States: {} pass   {} warn   {} fail   {} skipped   {} not run yet",
        Status::Pass.symbol(),
        Status::Warn.symbol(),
        Status::Fail.symbol(),
        Status::Skip.symbol(),
        Theme::symbol(RowState::Pending, 0)
    );
    let states = Line::from(Span::styled(states, t.dim()));
    let blank = Line::raw("");
    let full: Vec<Line> = [
        vec![blank.clone()],
        keys.clone(),
        vec![blank.clone(), states.clone()],
    ]
    .concat();
    let (popup, lines) = help_fit(area, full, |fewer| match fewer {
        0 => [keys.clone(), vec![blank.clone(), states.clone()]].concat(),
        1 => [keys.clone(), vec![states.clone()]].concat(),
        _ => keys.clone(),
    });
    let close = keys::HELP.hint(|_| true, "");
    let title = format!(" Keys ({close}) ");
    overlay(f, popup, overlay_block(&title), lines, 0);
}

/// Where the help goes, and what of it: the usual centred box when everything fits there;
/// else as wide as its longest line and as tall as its text, up to the whole screen, giving
/// up the blank lines and then the legend (`shorter(0..)`) so that every key stays in view
/// (the help cannot scroll).
fn help_fit<'a>(
    area: Rect,
    full: Vec<Line<'a>>,
    shorter: impl Fn(usize) -> Vec<Line<'a>>,
) -> (Rect, Vec<Line<'a>>) {
    let rows = |lines: &[Line], width: u16| -> u16 {
        let inner = usize::from(width.saturating_sub(2).max(1));
        lines
            .iter()
            .map(|l| wrapped_rows(&l.to_string(), inner))
            .sum()
    };
    let usual = centered(area, 70, 80);
    if rows(&full, usual.width) + 2 <= usual.height {
        return (usual, full);
    }
    let longest = full.iter().map(Line::width).max().unwrap_or(0);
    let width = u16::try_from(longest + 2)
        .unwrap_or(u16::MAX)
        .min(area.width);
    let mut lines = full;
    let mut fewer = 0;
    while rows(&lines, width) + 2 > area.height && fewer < 3 {
        lines = shorter(fewer);
        fewer += 1;
    }
    let height = (rows(&lines, width) + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    (popup, lines)
}

/// How many rows `text` takes wrapped at word boundaries into `width` columns.
fn wrapped_rows(text: &str, width: usize) -> u16 {
    let mut rows = 1;
    let mut col = 0;
    for (i, word) in text.split(' ').enumerate() {
        let w = word.chars().count();
        let need = if i == 0 { w } else { w + 1 };
        if col > 0 && col + need > width {
            rows += 1;
            col = w;
        } else {
            col += need;
        }
    }
    rows
}

fn draw_ask_bucket(app: &App, ask: &AskBucket, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let popup = centered(area, 70, 60);
    let mut lines = vec![
        Line::raw("Which bucket does the app use?"),
        Line::raw(""),
        Line::from(vec![
            Span::styled("> ", t.accent()),
            Span::raw(ask.input.clone()),
            Span::styled("█", t.accent()),
        ]),
    ];
    if let Some(e) = &ask.error {
        lines.push(Line::from(Span::styled(
            format!("  {e}"),
            t.style(RowState::Done(crate::checks::Status::Fail)),
        )));
    }
    lines.push(Line::raw(""));
    // Room for the list: the popup less its frame and the lines above and below.
    let room = usize::from(popup.height.saturating_sub(10)).max(1);
    lines.extend(suggestion_lines(t, ask, room));
    lines.push(Line::raw(""));
    // The suggestions' line names the pick keys, this one the rest.
    let hint = keys::BUCKET.hint(|a| a != keys::BucketKey::Next && ask.allows(a), " · ");
    lines.push(Line::from(Span::styled(hint, t.dim())));
    overlay(f, popup, overlay_block(" Bucket "), lines, 0);
}

/// The object prompt (`o`): the key of the app's object that fails.
fn draw_ask_object(app: &App, ask: &AskObject, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let popup = centered(area, 70, 40);
    let bucket = app.run.buckets.join(", ");
    let mut lines = vec![
        Line::raw(format!(
            "Which object does the app fail to read in {bucket}?"
        )),
        Line::from(Span::styled(
            "Its key, exactly as the app asks for it (e.g. finance/q3-report.pdf). s3doctor only reads it.",
            t.dim(),
        )),
        Line::raw(""),
        Line::from(vec![
            Span::styled("> ", t.accent()),
            Span::raw(ask.input.clone()),
            Span::styled("█", t.accent()),
        ]),
    ];
    if let Some(e) = &ask.error {
        lines.push(Line::from(Span::styled(
            format!("  {e}"),
            t.style(RowState::Done(crate::checks::Status::Fail)),
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        keys::OBJECT.hint(|_| true, " · "),
        t.dim(),
    )));
    overlay(f, popup, overlay_block(" The app's object "), lines, 0);
}

/// The buckets the keys can list that match what was typed, at most `room` of them around
/// the selected one (or why there are none).
fn suggestion_lines<'a>(t: &Theme, ask: &'a AskBucket, room: usize) -> Vec<Line<'a>> {
    let matches = ask.matches();
    if ask.suggestions.is_empty() {
        let why = match ask.listed {
            None => "(buckets these keys may list appear here)",
            Some(true) => "(these keys see no buckets: type the name)",
            Some(false) => "(these keys may not list buckets (s3:ListAllMyBuckets): type the name)",
        };
        return vec![Line::from(Span::styled(why, t.dim()))];
    }
    if matches.is_empty() {
        return vec![Line::from(Span::styled(
            format!(
                "none of the {} buckets these keys can see matches",
                ask.suggestions.len()
            ),
            t.dim(),
        ))];
    }
    let pick = keys::BUCKET.row(keys::BucketKey::Next);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "Buckets these keys can see (type to filter, {} {}):",
            pick.label, pick.word
        ),
        t.dim(),
    ))];
    let first = ask.selected.map_or(0, |i| (i + 1).saturating_sub(room));
    for (i, s) in matches.iter().enumerate().skip(first).take(room) {
        let style = if Some(i) == ask.selected {
            t.selected()
        } else {
            Style::new()
        };
        lines.push(Line::from(Span::styled(format!("  {s}"), style)));
    }
    if matches.len() > room {
        lines.push(Line::from(Span::styled(
            format!("  … {} in all", matches.len()),
            t.dim(),
        )));
    }
    lines
}

fn draw_url(app: &App, screen: &UrlScreen, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let popup = centered(area, 90, 80);
    let mut lines = vec![
        Line::raw("Paste a presigned URL (read here, never sent):"),
        Line::from(vec![
            Span::styled("> ", t.accent()),
            Span::raw(screen.input.clone()),
            Span::styled("█", t.accent()),
        ]),
        Line::raw(""),
    ];
    match &screen.result {
        None => {}
        Some(Err(e)) => lines.push(Line::from(Span::styled(
            e.clone(),
            t.style(RowState::Done(crate::checks::Status::Fail)),
        ))),
        Some(Ok(report)) => {
            for l in report {
                let style = if l.starts_with(Severity::Error.symbol()) {
                    t.style(RowState::Done(crate::checks::Status::Fail))
                } else if l.starts_with(Severity::Warning.symbol()) {
                    t.style(RowState::Done(crate::checks::Status::Warn))
                } else {
                    Style::new()
                };
                lines.push(Line::from(Span::styled(l.clone(), style)));
            }
        }
    }
    let hint = keys::URL.hint(|a| screen.allows(a), " · ");
    lines.push(Line::from(Span::styled(hint, t.dim())));
    overlay(
        f,
        popup,
        overlay_block(" Presigned URL "),
        lines,
        screen.scroll,
    );
}

/// The pasted-error screen: the text (its first lines), then the reading `s3doctor why` gives,
/// what Enter runs, and the keys.
fn draw_error(app: &App, screen: &ErrorScreen, f: &mut Frame, area: Rect) {
    const SHOWN: usize = 4;
    let t = &app.theme;
    let popup = centered(area, 90, 85);
    let mut lines = vec![Line::raw(
        "Paste the app's error: SDK or CLI output, a stack trace, an XML body, a CloudTrail event (read here, never sent):",
    )];
    let text: Vec<&str> = screen.input.lines().collect();
    for (i, l) in text.iter().take(SHOWN).enumerate() {
        let prompt = if i == 0 { "> " } else { "  " };
        lines.push(Line::from(vec![
            Span::styled(prompt, t.accent()),
            Span::raw((*l).to_owned()),
        ]));
    }
    if text.len() > SHOWN {
        lines.push(Line::from(Span::styled(
            format!("  … {} more lines", text.len() - SHOWN),
            t.dim(),
        )));
    }
    lines.push(Line::from(Span::styled("█", t.accent())));
    let fail = t.style(RowState::Done(crate::checks::Status::Fail));
    if let Some(words) = screen.run_words(&app.run.buckets) {
        lines.push(Line::from(Span::styled(words, t.accent())));
    }
    lines.push(Line::raw(""));
    match &screen.reading {
        None => {}
        Some(Err(e)) => lines.push(Line::from(Span::styled(e.clone(), fail))),
        Some(Ok(reading)) => {
            for l in crate::why::text(reading).lines() {
                let style = if l.starts_with("Cause:") {
                    fail
                } else {
                    Style::new()
                };
                lines.push(Line::from(Span::styled(l.to_owned(), style)));
            }
        }
    }
    // The keys in the bottom border: a long reading scrolls, the keys stay in sight.
    let hint = keys::ERROR.hint(|a| screen.allows(a), " · ");
    let block = overlay_block(" Pasted error ")
        .title_bottom(Line::from(Span::styled(format!(" {hint} "), t.dim())));
    overlay(f, popup, block, lines, screen.scroll);
}

/// A line of JSON with keys and string values coloured.
fn highlight_json(line: &str, t: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('"') {
        spans.push(Span::raw(rest[..start].to_owned()));
        let after = &rest[start + 1..];
        let end = after.find('"').map(|e| e + 1).unwrap_or(after.len());
        let token = &rest[start..start + 1 + end.min(after.len())];
        let is_key = after[end.min(after.len())..].trim_start().starts_with(':');
        let style = if is_key {
            t.fg(Color::Cyan)
        } else {
            t.fg(Color::Green)
        };
        spans.push(Span::styled(token.to_owned(), style));
        rest = &after[end.min(after.len())..];
    }
    spans.push(Span::raw(rest.to_owned()));
    Line::from(spans)
}

fn draw_remedy(app: &App, screen: &RemedyScreen, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let warn = t.style(RowState::Done(crate::checks::Status::Warn));
    let popup = centered(area, 92, 90);
    let lines = match &screen.plan {
        None => vec![Line::from(Span::styled(
            "Working out the plan (reading IAM, changing nothing)…",
            t.dim(),
        ))],
        Some(Err(why)) => vec![
            Line::from(Span::styled(
                "Nothing to apply",
                warn.add_modifier(Modifier::BOLD),
            )),
            Line::raw(why.clone()),
        ],
        Some(Ok(plan)) => plan_lines(t, screen, plan),
    };
    let mut hint = keys::REMEDY.hint(|a| screen.allows(a), " · ");
    if screen.phase == Phase::Applying {
        hint = format!("applying… · {hint}");
    }
    let block = overlay_block(" Remedy ")
        .title_bottom(Line::from(format!(" {hint} ")).alignment(Alignment::Right));
    overlay(f, popup, block, lines, screen.scroll);
}

/// A plan on the remedy screen: what goes where, acting as whom, why it cannot apply, the
/// calls, the progress and outcome of applying it, the policy.
fn plan_lines<'a>(t: &Theme, screen: &'a RemedyScreen, plan: &'a Plan) -> Vec<Line<'a>> {
    let fail = t.style(RowState::Done(crate::checks::Status::Fail));
    let warn = t.style(RowState::Done(crate::checks::Status::Warn));
    let mut lines = vec![
        plan_headline(t, plan),
        Line::raw(format!("Acting as {}", plan.acting_as)),
        Line::raw(""),
    ];
    for c in &plan.caveats {
        lines.push(Line::from(Span::styled(format!("Note: {c}"), warn)));
    }
    if let Some(why) = &plan.blocked {
        lines.push(Line::from(Span::styled(
            format!("Cannot apply: {why}"),
            fail,
        )));
        lines.push(Line::raw(if plan.bucket_policies.is_empty() {
            "Press e to export the fix as Markdown for whoever owns IAM."
        } else {
            "Press e to export the fix as Markdown for whoever owns the bucket."
        }));
        lines.push(Line::raw(""));
    }
    let calls = if plan.bucket_policies.is_empty() {
        "IAM calls"
    } else {
        "Calls (the statements already there are kept)"
    };
    lines.push(Line::from(Span::styled(calls, t.accent())));
    for call in plan.call_lines() {
        lines.push(Line::raw(format!("  {call}")));
    }
    if !screen.log.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled("Progress", t.accent())));
        for l in &screen.log {
            lines.push(Line::raw(format!("  {l}")));
        }
    }
    if let Phase::Done(ok) = screen.phase {
        lines.push(outcome_line(t, ok));
    }
    lines.push(Line::raw(""));
    let shown = if plan.bucket_policies.is_empty() {
        "Policy"
    } else {
        "Statements to add (merged: the statements there are kept)"
    };
    lines.push(Line::from(Span::styled(shown, t.accent())));
    for l in plan.json.lines() {
        lines.push(highlight_json(l, t));
    }
    lines
}

/// What the plan changes: the policy attached to whom, or (a server without IAM managed
/// policies) the statements added to the bucket policy.
fn plan_headline<'a>(t: &Theme, plan: &'a Plan) -> Line<'a> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    if plan.bucket_policies.is_empty() {
        let target = plan
            .target
            .as_ref()
            .map(|t| t.describe())
            .unwrap_or_else(|| "nobody".into());
        Line::from(vec![
            Span::styled("Attach ", bold),
            Span::styled(plan.policy_name.clone(), t.accent()),
            Span::styled(" to ", bold),
            Span::styled(target, t.accent()),
        ])
    } else {
        Line::from(vec![
            Span::styled("Add statements for ", bold),
            Span::styled(plan.principal.arn.clone(), t.accent()),
            Span::styled(" to the ", bold),
            Span::styled(plan.policy_name.clone(), t.accent()),
        ])
    }
}

/// How applying the plan ended: fixed and verified, or not verified.
fn outcome_line(t: &Theme, ok: bool) -> Line<'static> {
    if ok {
        let pass = t.style(RowState::Done(crate::checks::Status::Pass));
        Line::from(Span::styled(
            "✓ Fixed and verified",
            pass.add_modifier(Modifier::BOLD),
        ))
    } else {
        let fail = t.style(RowState::Done(crate::checks::Status::Fail));
        Line::from(Span::styled("✗ Not verified", fail))
    }
}

/// The frame of an overlay (help, bucket prompt, remedy): a double border over the screen.
fn overlay_block(title: &str) -> Block<'_> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .title(title)
}

/// Draws an overlay: clears what is under it, then the wrapped, scrolled text.
fn overlay(f: &mut Frame, popup: Rect, block: Block<'_>, lines: Vec<Line<'_>>, scroll: u16) {
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::QuitTo;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn app(quit_to: QuitTo) -> App {
        let mut app = App::for_tests();
        app.quit_to = quit_to;
        app
    }

    /// The screen's lines, trailing blanks cut.
    fn lines(app: &App) -> Vec<String> {
        lines_of_width(app, 100)
    }

    /// The lines of a screen `width` columns wide (30 rows).
    fn lines_of_width(app: &App, width: u16) -> Vec<String> {
        let mut term = Terminal::new(TestBackend::new(width, 30)).expect("terminal");
        term.draw(|f| draw(app, f)).expect("draw");
        let buffer = term.backend().buffer();
        (0..buffer.area.height)
            .map(|y| {
                let line: String = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect();
                line.trim_end().to_owned()
            })
            .collect()
    }

    /// In the demo, q returns to the gallery: the footer and the help say that, not "quit".
    #[test]
    fn in_the_demo_the_footer_and_help_say_q_goes_back_to_the_gallery() {
        let footer = |app: &App| lines(app).last().cloned().unwrap_or_default();
        assert!(
            footer(&app(QuitTo::Exit)).ends_with(" q quit"),
            "{}",
            footer(&app(QuitTo::Exit))
        );
        let mut demo = app(QuitTo::Gallery);
        assert!(footer(&demo).ends_with(" q back"), "{}", footer(&demo));
        assert!(!footer(&demo).contains("quit"), "{}", footer(&demo));
        demo.modal = Some(Modal::Help);
        let help = lines(&demo).join("\n");
        assert!(help.contains("q / Ctrl-C  back to the gallery"), "{help}");
        assert!(!help.contains("quit"), "{help}");
    }

    /// An assumed role's session is shown as the role a person acts on, and the session.
    #[test]
    fn the_header_names_the_role_and_the_session() {
        let mut app = app(QuitTo::Exit);
        let mut identity = crate::checks::Identity::new(
            crate::arn::parse_principal("arn:aws:sts::123456789012:assumed-role/app/worker")
                .expect("arn"),
            None,
            true,
        );
        identity.learn_role_arn("arn:aws:iam::123456789012:role/svc/app");
        app.session.identity = Some(identity);
        let header = lines(&app)[1].clone();
        assert!(
            header.starts_with(
                "arn:aws:iam::123456789012:role/svc/app  (role app, session worker, account 123456789012)"
            ),
            "{header}"
        );
    }

    /// The app's network (`--vpce`, `--source-ip`) is in the header; a finding whose verdict
    /// differs there shows both verdicts in the detail.
    #[test]
    fn the_header_names_the_apps_network_and_the_detail_both_verdicts() {
        let mut app = app(QuitTo::Exit);
        app.run.network = crate::policy::AppNetwork {
            source_ip: Some("10.0.1.25".parse().expect("ip")),
            vpce: Some("vpce-0a1b2c3d4e5f67890".into()),
            ..crate::policy::AppNetwork::default()
        };
        let header = lines(&app)[0].clone();
        assert!(
            header.contains(" app's network VPC endpoint vpce-0a1b2c3d4e5f67890, from 10.0.1.25 "),
            "{header}"
        );
        let finding = crate::finding::Finding {
            vantages: Some(crate::finding::Vantages {
                app_network: "VPC endpoint vpce-1".into(),
                from_here: "not allowed unless a condition holds (…)".into(),
                from_app_network: "allowed (allowed by Sid A in policy p)".into(),
            }),
            ..crate::finding::Finding::for_tests()
        };
        let text: Vec<String> = finding_lines(&app.theme, &finding)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(
            text.contains(&"From here: not allowed unless a condition holds (…)".to_owned()),
            "{text:?}"
        );
        assert!(
            text.contains(
                &"From the app's network (VPC endpoint vpce-1): allowed (allowed by Sid A in policy p)"
                    .to_owned()
            ),
            "{text:?}"
        );
    }

    /// A `--vpc` that EC2 contradicts: the header shows the VPC as typed until the engine
    /// says what EC2 answered (its Session event), then EC2's VPC, marked as its answer, with
    /// what `--vpc` said, as the findings judged it.
    #[test]
    fn the_header_names_ec2s_vpc_once_the_endpoint_answered() {
        let mut app = app(QuitTo::Exit);
        let network = crate::policy::AppNetwork {
            vpc: Some("vpc-0typed".into()),
            vpce: Some("vpce-1".into()),
            ..crate::policy::AppNetwork::default()
        };
        app.run.network = network;
        let header = lines(&app)[0].clone();
        assert!(
            header.contains(" app's network VPC endpoint vpce-1 in vpc-0typed "),
            "{header}"
        );
        let info = crate::engine::SessionInfo {
            described_endpoint: Some(crate::app_network::DescribedEndpoint {
                vpce: "vpce-1".into(),
                vpc: "vpc-0ec2".into(),
            }),
            ..app.session.clone()
        };
        let cmds = app.update(crate::tui::app::Msg::Engine(Box::new(
            crate::engine::EngineEvent::Session(info),
        )));
        assert!(cmds.is_empty(), "no call from the answer: {cmds:?}");
        // The top border holds it whole on a wide screen (a narrow one cuts its end).
        let header = lines_of_width(&app, 140)[0].clone();
        assert!(
            header.contains(
                " app's network VPC endpoint vpce-1 in vpc-0ec2 (EC2's answer; --vpc said vpc-0typed) "
            ),
            "{header}"
        );
    }

    /// What a test can see of the app: the overlay's state, the message, whether it quits.
    fn look(app: &App) -> String {
        format!(
            "{:?} {:?} {} {}",
            app.modal,
            app.message,
            app.should_quit(),
            app.run.buckets.join(",")
        )
    }

    /// Presses a key; the commands it gave, in words.
    fn press(app: &mut App, key: crossterm::event::KeyEvent) -> String {
        let cmds = app.update(crate::tui::app::Msg::Key(key));
        if cmds.is_empty() {
            String::new()
        } else {
            format!("{cmds:?}")
        }
    }

    /// Keys that quit from the main screen and every overlay where letters are not text.
    fn quits(key: crossterm::event::KeyEvent) -> bool {
        keys::action(key) == Some(keys::Action::Quit)
    }

    /// A line of an overlay, between its double borders.
    fn inner(line: &str) -> &str {
        match (line.find('║'), line.rfind('║')) {
            (Some(a), Some(b)) if a < b => line[a + '║'.len_utf8()..b].trim(),
            _ => "",
        }
    }

    /// Letters and Backspace: text in the bucket and URL prompts.
    fn typing(key: crossterm::event::KeyEvent) -> bool {
        use crossterm::event::KeyCode;
        matches!(key.code, KeyCode::Char(_) | KeyCode::Backspace)
    }

    /// A plan for clipizy-dev's failed upload by the IAM user Runpod, worked out without a
    /// server (no session: blocked); `applicable` takes the block away.
    fn plan(applicable: bool) -> crate::remedy::Plan {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut plan = runtime.block_on(crate::remedy::plan::plan_for_tests(
            "arn:aws:iam::123456789012:user/Runpod",
        ));
        assert!(plan.blocked.is_some(), "no session, no IAM: blocked");
        if applicable {
            plan.blocked = None;
        }
        plan
    }

    /// The remedy screen in each of its states: its hint (the bottom border) names exactly the
    /// keys that do something there; every other key does nothing (q and Ctrl-C quit).
    #[test]
    fn the_remedy_hint_names_the_keys_the_remedy_screen_handles() {
        use crate::tui::app::{Phase, RemedyScreen};
        type Planned = Option<Result<crate::remedy::Plan, String>>;
        let states: Vec<(Planned, Phase, &str)> = vec![
            (None, Phase::Review, "n/Esc close · ↑↓ scroll"),
            (
                Some(Err("no missing permission".into())),
                Phase::Review,
                "n/Esc close · ↑↓ scroll",
            ),
            (
                Some(Ok(plan(true))),
                Phase::Review,
                "y apply · n/Esc cancel · e export · ↑↓ scroll",
            ),
            (
                Some(Ok(plan(false))),
                Phase::Review,
                "e export · n/Esc close · ↑↓ scroll",
            ),
            (
                Some(Ok(plan(true))),
                Phase::Applying,
                "applying… · e export · ↑↓ scroll",
            ),
            (
                Some(Ok(plan(true))),
                Phase::Done(true),
                "e export · n/Esc close · ↑↓ scroll",
            ),
        ];
        for (plan, phase, hint) in states {
            let fresh = || {
                let mut app = app(QuitTo::Exit);
                app.modal = Some(Modal::Remedy(Box::new(RemedyScreen {
                    plan: plan.clone(),
                    phase: phase.clone(),
                    log: Vec::new(),
                    scroll: 3,
                })));
                app
            };
            let screen = lines(&fresh()).join("\n");
            assert!(
                screen.contains(&format!("═ {hint} ╝")),
                "{hint:?}:\n{screen}"
            );
            let Some(Modal::Remedy(remedy)) = &fresh().modal else {
                unreachable!()
            };
            keys::names::press_every_key(
                &keys::REMEDY,
                |a| remedy.allows(a),
                fresh,
                look,
                press,
                quits,
            );
        }
    }

    /// The bucket prompt: its footer names Enter and Esc, the line over the suggestions the
    /// pick keys (only when a suggestion matches); other keys do nothing, letters are the name.
    #[test]
    fn the_bucket_prompt_names_the_keys_it_handles() {
        use crate::tui::app::AskBucket;
        for (typed, pick) in [("", true), ("zzz", false)] {
            let fresh = || {
                let mut app = app(QuitTo::Exit);
                app.modal = Some(Modal::AskBucket(AskBucket {
                    input: typed.into(),
                    typed: typed.into(),
                    suggestions: vec!["alpha-uploads".into(), "beta-uploads".into()],
                    ..AskBucket::default()
                }));
                app
            };
            let screen = lines(&fresh());
            assert!(
                screen
                    .iter()
                    .any(|l| inner(l) == "Enter confirm · Esc quit"),
                "{screen:#?}"
            );
            let picks = screen.iter().any(|l| l.contains("Tab/↓ to pick):"));
            assert_eq!(picks, pick, "{screen:#?}");
            let Some(Modal::AskBucket(ask)) = &fresh().modal else {
                unreachable!()
            };
            let exempt = |k| typing(k) || keys::is_interrupt(k);
            keys::names::press_every_key(
                &keys::BUCKET,
                |a| ask.allows(a),
                fresh,
                look,
                press,
                exempt,
            );
        }
    }

    /// The presigned-URL screen: before a URL is read, after a report, after a refusal.
    #[test]
    fn the_url_hint_names_the_keys_the_url_screen_handles() {
        use crate::tui::app::UrlScreen;
        let report = Ok(vec![
            "✗ expired".to_owned(),
            "signed by AKIA…MPLE".to_owned(),
        ]);
        let read = "↑↓ scroll · type to read another · Esc close";
        for (result, hint) in [
            (None, "Enter read · Esc close"),
            (Some(report), read),
            (Some(Err("not an http(s) URL".to_owned())), read),
        ] {
            let fresh = || {
                let mut app = app(QuitTo::Exit);
                app.modal = Some(Modal::Url(UrlScreen {
                    input: "x".into(),
                    result: result.clone(),
                    scroll: 3,
                }));
                app
            };
            // Scrolled by 3: draw it unscrolled to read the hint.
            let mut shown = fresh();
            if let Some(Modal::Url(url)) = &mut shown.modal {
                url.scroll = 0;
            }
            let screen = lines(&shown);
            assert!(
                screen.iter().any(|l| inner(l) == hint),
                "{hint:?}:\n{screen:#?}"
            );
            let Some(Modal::Url(url)) = &fresh().modal else {
                unreachable!()
            };
            let exempt = |k| typing(k) || keys::is_interrupt(k);
            keys::names::press_every_key(&keys::URL, |a| url.allows(a), fresh, look, press, exempt);
        }
    }

    /// The pasted-error screen: before a text is read, after a reading, after a text with no
    /// AWS error; every key pressed in each state does what the hint says, or nothing.
    #[test]
    fn the_error_hint_names_the_keys_the_error_screen_handles() {
        let texts = [
            (None, "Enter read · Esc close"),
            (
                Some(
                    "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
                ),
                "Enter run the checklist · ↑↓ scroll · type to read another · Esc close",
            ),
            (
                Some("no error here"),
                "↑↓ scroll · type to read another · Esc close",
            ),
        ];
        for (text, hint) in texts {
            let fresh = || {
                let mut app = app(QuitTo::Exit);
                let mut screen = ErrorScreen {
                    input: text.unwrap_or("x").to_owned(),
                    ..ErrorScreen::default()
                };
                if text.is_some() {
                    screen.on_key(crossterm::event::KeyEvent::new(
                        crossterm::event::KeyCode::Enter,
                        crossterm::event::KeyModifiers::NONE,
                    ));
                }
                screen.scroll = 3;
                app.modal = Some(Modal::Error(Box::new(screen)));
                app
            };
            let mut shown = fresh();
            if let Some(Modal::Error(screen)) = &mut shown.modal {
                screen.scroll = 0;
            }
            let screen = lines(&shown);
            assert!(
                screen.iter().any(|l| l.contains(&format!("╚ {hint} ═"))),
                "{hint:?}:\n{screen:#?}"
            );
            let Some(Modal::Error(error)) = &fresh().modal else {
                unreachable!()
            };
            let exempt = |k| typing(k) || keys::is_interrupt(k);
            keys::names::press_every_key(
                &keys::ERROR,
                |a| error.allows(a),
                fresh,
                look,
                press,
                exempt,
            );
        }
    }

    /// The help overlay: its title names the keys that close it; every other key does
    /// nothing there (q and Ctrl-C quit).
    #[test]
    fn the_help_title_names_the_keys_that_close_it() {
        let fresh = || {
            let mut app = app(QuitTo::Exit);
            app.modal = Some(Modal::Help);
            app
        };
        let screen = lines(&fresh()).join("\n");
        assert!(screen.contains("╔ Keys (? or Esc closes) ═"), "{screen}");
        keys::names::press_every_key(&keys::HELP, |_| true, fresh, look, press, quits);
    }
}

//! Liveness figures (`make bench`, or `cargo bench --bench liveness`), printed, not asserted:
//! 1. the worker's time from upload to decision for a 6 s 720p VP8 selfie (the Carphone clip
//!    scaled to 1280×720 and looped to 6 s): the whole pipeline (document, face match,
//!    liveness, decision), median of 3 runs;
//! 2. the challenge stage's accuracy on the clips there are, against what each clip really
//!    does (checked by looking at its frames);
//! 3. APCER / BPCER of the combined liveness decision: bona fide = the real clips answering
//!    their true challenge; attacks = hand-held print videos made from every 4th NUAA image
//!    (live and spoof photos alike: held up to a camera, both are prints) and the two
//!    Silent-Face images, answering the same challenge;
//! 4. the passive anti-spoof model alone on the NUAA stills (its own threshold 0.2).

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use idgate::config::Settings;
use idgate::domain::challenge::{Action, Challenge, parse_actions};
use idgate::domain::claims::RawClaims;
use idgate::engine::{Engine, StageTimes};
use idgate::pipeline::decision::DecisionPolicy;
use idgate::pipeline::document_check::{ClaimedIdentity, DocumentPolicy};
use idgate::pipeline::liveness::injection::CaptureReport;
use idgate::pipeline::liveness::{self, LivenessInput};
use idgate::pipeline::risk::{ReferenceLists, RiskFacts};
use idgate::pipeline::{self, AnsweredChallenge, CaseFacts, CaseFiles, LivenessFacts};
use opencv::imgcodecs;

#[path = "../tests/support/images.rs"]
mod images;
use images::images_under;
#[path = "../tests/support/print_attack.rs"]
mod print_attack;
use print_attack::print_attack;

const TRUE_CHALLENGE: &str = "turn_right,blink,turn_left";

fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg").args(["-hide_banner", "-loglevel", "error", "-y"]).args(args).status();
    assert!(ok.is_ok_and(|s| s.success()), "ffmpeg {args:?}");
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    p.exists().then_some(p)
}

fn check(engine: &Engine, clip: &Path, steps: &[Action]) -> liveness::Liveness {
    let bytes = std::fs::read(clip).unwrap();
    let capture = CaptureReport::default();
    let input = LivenessInput::alone(steps, &capture, &bytes, idgate::config::DEFAULT_MATCH_THRESHOLD);
    liveness::assess(engine, clip, &input).unwrap()
}

fn upload_to_decision(engine: &Engine, dir: &Path, carphone: &Path) {
    let Some(document) = shared("mrz/specimen_images/passports").and_then(|d| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(d).ok()?.filter_map(|e| Some(e.ok()?.path())).collect();
        files.sort();
        files.into_iter().next()
    }) else {
        return println!("SKIP upload to decision: no specimen document");
    };
    let selfie = dir.join("selfie-720p-6s.webm");
    let looped =
        ["-stream_loop", "1", "-i", carphone.to_str().unwrap(), "-t", "6", "-vf", "scale=880:720,pad=1280:720:200:0"];
    let rest = ["-c:v", "libvpx", "-b:v", "2500k", "-threads", "2", selfie.to_str().unwrap()];
    ffmpeg(&[&looped[..], &rest[..]].concat());
    let settings = Settings::default();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let case = CaseFiles {
            verification: "bench".into(),
            document_front: document.clone(),
            document_back: None,
            selfie: selfie.clone(),
        };
        let facts = CaseFacts {
            claims: ClaimedIdentity {
                given_name: "Ada".into(),
                family_name: "Bench".into(),
                birth_date: time::Date::from_calendar_date(1990, time::Month::January, 1).unwrap(),
                nationality: "GB".into(),
            },
            today: time::Date::from_calendar_date(2026, time::Month::November, 24).unwrap(),
            document_policy: DocumentPolicy { min_age: 18, name_mismatch: 0.75, name_match: 0.9 },
            liveness: LivenessFacts {
                required: true,
                challenge: Some(AnsweredChallenge {
                    challenge: Challenge { steps: parse_actions(TRUE_CHALLENGE).unwrap(), timing: None },
                    capture: CaptureReport::default(),
                    issued: 1,
                }),
                selfie_bytes: std::fs::read(&selfie).unwrap(),
                same_bytes: Vec::new(),
                earlier: Vec::new(),
            },
            risk: RiskFacts {
                claims: RawClaims {
                    given_name: "Ada".into(),
                    family_name: "Bench".into(),
                    birth_date: "1990-01-01".into(),
                    nationality: "GB".into(),
                    residence_country: "GB".into(),
                    phone: "+44 7911 123456".into(),
                    email: "ada@example.org".into(),
                    education: Vec::new(),
                },
                birth: time::Date::from_calendar_date(1990, time::Month::January, 1).unwrap(),
                today: time::Date::from_calendar_date(2026, time::Month::November, 24).unwrap(),
                now: idgate::domain::time::Timestamp::from_millis(1_795_000_000_000),
                lists: std::sync::Arc::new(ReferenceLists::default()),
                policy: settings.risk_policy(),
                reuse: Vec::new(),
                sanctions: std::sync::Arc::new(idgate::sanctions::Sanctions::new(Vec::new(), Default::default())),
                network: Default::default(),
                faces: None,
            },
        };
        let policy = DecisionPolicy { match_threshold: settings.face_match.threshold, review_margin: 0.07 };
        let started = Instant::now();
        let results = pipeline::run(engine, &case, &facts, policy).unwrap();
        let total = started.elapsed().as_secs_f64() * 1000.0;
        let live = match &results.liveness {
            Some(pipeline::StageOutcome::Done(l)) => (l.elapsed_ms, l.challenge.passed, l.frames_analysed),
            _ => (0.0, false, 0),
        };
        runs.push((total, live));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (total, (live_ms, passed, frames)) = runs[1];
    println!(
        "upload to decision, 6 s 1280x720 VP8 selfie (worker pipeline, median of 3): {total:.0} ms \
         (liveness {live_ms:.0} ms over {frames} frames, challenge passed: {passed})"
    );
}

fn main() {
    let Some(carphone) = shared("video/carphone_pristine.mp4") else {
        return println!("SKIP liveness bench: ../shared/data is absent");
    };
    let settings = Settings::load(None).unwrap();
    let engine = Engine::load(&settings.engine).expect("models installed by `make setup`");
    let dir = tempfile::tempdir().unwrap();
    upload_to_decision(&engine, dir.path(), &carphone);

    // 2. Challenge accuracy: (clip, challenge, really performed).
    let distorted = shared("video/carphone_distorted.mp4").unwrap();
    let photo = shared("faces/deepface/images/img34.jpg").unwrap();
    let print = dir.path().join("print.webm");
    print_attack(&photo, &print);
    let challenges = [
        (TRUE_CHALLENGE, true),
        ("turn_right,look_up,turn_left", true),
        ("blink_twice", true),
        ("look_up,turn_left", true),
        ("smile", false),
        ("turn_left,turn_right", false),
        ("turn_right,smile", false),
        ("look_up,turn_right", false),
    ];
    let mut cases: Vec<(&str, &Path, &str, bool)> = Vec::new();
    for (name, clip) in [("carphone", carphone.as_path()), ("carphone_distorted", distorted.as_path())] {
        cases.extend(challenges.iter().map(|&(c, performed)| (name, clip, c, performed)));
    }
    for c in [TRUE_CHALLENGE, "turn_left", "blink_twice", "look_up"] {
        cases.push(("print_attack", print.as_path(), c, false));
    }
    let (mut right, mut rows) = (0, Vec::new());
    for (name, clip, challenge, performed) in &cases {
        let result = check(&engine, clip, &parse_actions(challenge).unwrap());
        let correct = result.challenge.passed == *performed;
        right += usize::from(correct);
        rows.push(format!(
            "  {name:<19} {challenge:<30} performed={performed:<5} stage={:<5} {}",
            result.challenge.passed,
            if correct { "" } else { "WRONG" }
        ));
    }
    println!("challenge stage accuracy: {right}/{} correct", cases.len());
    rows.iter().for_each(|r| println!("{r}"));

    // 3. APCER / BPCER of the combined decision (`passed`).
    let steps = parse_actions(TRUE_CHALLENGE).unwrap();
    let bona_fide = [&carphone, &distorted];
    let rejected_bona_fide = bona_fide.iter().filter(|c| !check(&engine, c, &steps).passed).count();
    let mut attacks: Vec<PathBuf> = Vec::new();
    for class in ["live", "spoof"] {
        let root = shared(&format!("spoof/nuaa/{class}")).unwrap();
        let mut images: Vec<PathBuf> = images_under(&root);
        images.sort();
        attacks.extend(images.into_iter().step_by(4));
    }
    attacks.extend(images_under(&shared("spoof/silent_face").unwrap()));
    let mut accepted = 0;
    for (i, photo) in attacks.iter().enumerate() {
        let clip = dir.path().join(format!("attack-{i}.webm"));
        print_attack(photo, &clip);
        accepted += usize::from(check(&engine, &clip, &steps).passed);
    }
    println!(
        "combined liveness decision: APCER {:.1}% ({accepted}/{} print videos accepted), BPCER {:.1}% ({rejected_bona_fide}/{} real clips rejected)",
        100.0 * accepted as f64 / attacks.len() as f64,
        attacks.len(),
        100.0 * rejected_bona_fide as f64 / bona_fide.len() as f64,
        bona_fide.len()
    );

    // 4. The passive model alone on the NUAA stills.
    let mut times = StageTimes::default();
    let mut score = |path: &Path| -> Option<f32> {
        let bgr = imgcodecs::imread(path.to_str()?, imgcodecs::IMREAD_COLOR).ok()?;
        let faces = engine.analyse(&bgr, 0, 0.0, idgate::engine::Embed::Never, &mut times).ok()?;
        engine.antispoof().score(&bgr, &faces.detections.first()?.bbox, &mut times).ok()
    };
    let live: Vec<f32> = images_under(&shared("spoof/nuaa/live").unwrap()).iter().filter_map(|p| score(p)).collect();
    let spoof: Vec<f32> = images_under(&shared("spoof/nuaa/spoof").unwrap()).iter().filter_map(|p| score(p)).collect();
    let apcer = spoof.iter().filter(|s| **s < 0.2).count() as f64 / spoof.len().max(1) as f64;
    let bpcer = live.iter().filter(|s| **s >= 0.2).count() as f64 / live.len().max(1) as f64;
    println!(
        "passive anti-spoof alone on NUAA stills (threshold 0.2): APCER {:.1}% of {} prints, BPCER {:.1}% of {} live",
        100.0 * apcer,
        spoof.len(),
        100.0 * bpcer,
        live.len()
    );
}

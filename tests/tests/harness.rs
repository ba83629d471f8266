//! The harness's own masks, checked against outputs the original printed.

use xmen_tests::{is_timer_line, mask, mask_time};

#[test]
fn masks_replace_times_and_durations_but_nothing_else() {
    assert_eq!(mask_time("[05:36PM 18/11/20 0/3 2/15]: x = cat|dog"), "[{time} 0/3 2/15]: x = cat|dog");
    assert_eq!(
        mask("[03:07PM 05/02/21 1/48]: wall=0:00:00.214666 end=1 day, 0:01:08.451221 next=0:00:00 y = 10.00000"),
        "[{time} 1/48]: wall={duration} end={duration} next={duration} y = 10.00000"
    );
}

#[test]
fn timer_line_pattern_accepts_the_spec_example_and_rejects_logger_lines() {
    let spec_example = "[03:07PM 05/02/21 0/2 0/4 0/12 0/48 2/240]: wall=0:00:00.050627 end=0:00:06.024641 next=0:00:00.000054 step=0:00:00.000006 m_step=0:00:00.000007 load=0:00:00.000010 m_load=0:00:00.000011";
    assert!(is_timer_line(spec_example));
    assert!(is_timer_line("[03:07PM 05/02/21]: wall=0:00:00"));
    assert!(!is_timer_line("[05:36PM 18/11/20 0/3 2/15]: x = cat|dog"));
    assert!(!is_timer_line(&format!("{spec_example} extra")));
}

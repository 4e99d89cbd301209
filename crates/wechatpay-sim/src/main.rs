//! `wechatpay-sim`: a local WeChat Pay API v3 simulator. See `wechatpay_sim::cli`.

fn main() -> std::process::ExitCode {
    wechatpay_sim::run_cli(std::env::args().skip(1))
}

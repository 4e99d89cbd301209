#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay_fuzz::targets::bill_reader(data));

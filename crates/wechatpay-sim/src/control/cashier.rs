//! The cashier page, `/sim/cashier/{prepay_id}`: what an `h5_url` opens (and, by prepay
//! id, the page of every prepaid order). No admin token: the unguessable prepay id is the
//! capability, as the real URL's is. `GET` shows the order with "Pay" and "Cancel"
//! buttons; `POST` with `action=pay` or `action=cancel` presses one and shows the result.
//! A thin HTTP layer over [`Control::cashier`] and [`Control::cashier_press`].

use std::io::Write;

use super::Control;
use super::prepay::{CashierOutcome, CashierView};
use crate::net::http::{Request, write_all, write_head};
use crate::protocol::routes::percent_decode;

/// The path prefix of the cashier page.
const PREFIX: &str = "/sim/cashier/";

/// Whether `target` is a cashier page.
pub(crate) fn is_cashier(target: &str) -> bool {
    target.starts_with(PREFIX)
}

/// The prepay id of a cashier target and its `redirect_url` if any. The merchant's page
/// appends `&redirect_url=…` to an `h5_url`, so a `&` ends the id as a `?` does.
fn parse_target(target: &str) -> (String, Option<String>) {
    let rest = target.strip_prefix(PREFIX).unwrap_or_default();
    let end = rest.find(['?', '&']).unwrap_or(rest.len());
    let id = percent_decode(&rest[..end]).unwrap_or_default();
    let redirect = form_value(&rest[end..].replace('?', "&"), "redirect_url")
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    (id, redirect)
}

/// The value of `name` in `application/x-www-form-urlencoded` text.
fn form_value(form: &str, name: &str) -> Option<String> {
    form.split('&').filter_map(|pair| pair.split_once('=')).find_map(|(k, v)| {
        (percent_decode(&k.replace('+', " ")).as_deref() == Some(name))
            .then(|| percent_decode(&v.replace('+', " ")))
            .flatten()
    })
}

/// `s` with the five HTML-special characters escaped.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes an HTML page; `false` when the connection must close.
fn page(stream: &mut dyn Write, status: u16, title: &str, body: &str, close: bool) -> bool {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}}\
         dt{{color:#666}}dd{{margin:0 0 .6em}}.amount{{font-size:2em}}button{{font-size:1.2em;margin-right:.5em}}</style>\n\
         </head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    );
    let headers = [
        ("Content-Type", "text/html; charset=utf-8".to_owned()),
        ("Cache-Control", "no-store".to_owned()),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'".to_owned()),
        ("X-Content-Type-Options", "nosniff".to_owned()),
        ("Server", "wechatpay-sim".to_owned()),
        ("Content-Length", html.len().to_string()),
    ];
    let mut out = Vec::with_capacity(html.len() + 512);
    let _ = write_head(&mut out, status, &headers, close);
    out.extend_from_slice(html.as_bytes());
    let mut stream = stream;
    write_all(&mut stream, &out) && !close
}

/// The order's details.
fn details(view: &CashierView) -> String {
    format!(
        "<dl>\n<dt>商户 Merchant</dt><dd id=\"merchant\">{}</dd>\n\
         <dt>商品 Description</dt><dd id=\"description\">{}</dd>\n\
         <dt>金额 Amount</dt><dd id=\"amount\" class=\"amount\">¥{} <small>{}</small></dd>\n\
         <dt>订单号 Order</dt><dd id=\"out_trade_no\">{}</dd>\n\
         <dt>状态 State</dt><dd id=\"trade_state\">{}</dd>\n</dl>\n",
        escape(&view.merchant),
        escape(&view.description),
        escape(&view.yuan),
        escape(&view.currency),
        escape(&view.out_trade_no),
        escape(&view.trade_state),
    )
}

/// Answers a cashier request; `false` when the connection must close.
pub(crate) fn serve(control: &Control, stream: &mut dyn Write, req: &Request) -> bool {
    let close = req.wants_close();
    let (prepay_id, redirect) = parse_target(&req.target);
    let not_found = |stream: &mut dyn Write| {
        page(stream, 404, "Not found", "<h1>订单不存在 (no order has this prepay id)</h1>\n", close)
    };
    let action = format!("{PREFIX}{}", escape(&prepay_id));
    match req.method.as_str() {
        "GET" => {
            let Some(view) = control.cashier(&prepay_id) else { return not_found(stream) };
            let buttons = if view.trade_state == "NOTPAY" {
                format!(
                    "<form method=\"post\" action=\"{action}\">\n\
                     <button type=\"submit\" name=\"action\" value=\"pay\" id=\"pay\">Pay 确认支付</button>\n\
                     <button type=\"submit\" name=\"action\" value=\"cancel\" id=\"cancel\">Cancel 取消</button>\n\
                     </form>\n"
                )
            } else {
                "<p id=\"result\">This order cannot be paid now.</p>\n".to_owned()
            };
            let body = format!("<h1>微信支付 WeChat Pay (simulator)</h1>\n{}{buttons}", details(&view));
            page(stream, 200, "WeChat Pay cashier (simulator)", &body, close)
        }
        "POST" => {
            let form = String::from_utf8_lossy(&req.body);
            let pay = match form_value(&form, "action").as_deref() {
                Some("pay") => true,
                Some("cancel") => false,
                _ => {
                    let body = "<h1>Bad request</h1>\n<p>action: must be pay or cancel</p>\n";
                    return page(stream, 400, "Bad request", body, close);
                }
            };
            let Some((outcome, view)) = control.cashier_press(&prepay_id, pay) else { return not_found(stream) };
            let result = match outcome {
                CashierOutcome::Paid => "支付成功 Paid",
                CashierOutcome::AlreadyPaid => "订单已支付 Already paid",
                CashierOutcome::NotPayable => "订单不可支付 This order cannot be paid",
                CashierOutcome::Cancelled => "已取消 Cancelled: the order is not paid",
            };
            let back = redirect
                .map(|u| {
                    format!("<p><a id=\"redirect\" href=\"{}\">返回商户 Back to the merchant</a></p>\n", escape(&u))
                })
                .unwrap_or_default();
            let body = format!("<h1 id=\"result\">{result}</h1>\n{}{back}", details(&view));
            page(stream, 200, result, &body, close)
        }
        _ => page(stream, 405, "Method not allowed", "<h1>Method not allowed (GET or POST)</h1>\n", close),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_forms_parse() {
        assert_eq!(parse_target("/sim/cashier/wx1"), ("wx1".to_owned(), None));
        let (id, back) = parse_target("/sim/cashier/wx1&redirect_url=https%3A%2F%2Fshop.example%2Fdone");
        assert_eq!((id.as_str(), back.as_deref()), ("wx1", Some("https://shop.example/done")));
        assert_eq!(parse_target("/sim/cashier/wx1?redirect_url=javascript:alert(1)").1, None);
        assert_eq!(form_value("a=1&action=pay", "action").as_deref(), Some("pay"));
        assert_eq!(form_value("action=can%63el", "action").as_deref(), Some("cancel"));
        assert_eq!(form_value("x=1", "action"), None);
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}

"""The WeChat Pay APIv3 facade: merchants' unchanged `wechatpayv3` code signs its requests to this
service, which answers in WeChat Pay's wire format — signed responses, encrypted notifications,
platform certificates — over the service's own orders, payments and coupons. `protocol.py` is the
wire format alone, with no framework and no database; a second provider such as Alipay would be a
package beside this one, not a copy of it."""

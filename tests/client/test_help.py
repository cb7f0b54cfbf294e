"""help() explains the API: a namespace lists its actions, a coroutine every option.

A newcomer's first `help(mall.admin.products)` showed the generic Namespace class,
and `help(...list)` printed `max 2.14748e+09` and said nothing of fields, embed,
typed or timeout.
"""

from __future__ import annotations

import pydoc

from cafe24_async import Cafe24


def render(thing: object) -> str:
    return pydoc.render_doc(thing, renderer=pydoc.plaintext)


async def test_help_on_a_namespace_lists_its_actions_and_children() -> None:
    api = Cafe24(client_id="cid", client_secret="secret")
    mall = api.mall("acme")
    text = render(mall.admin.products)
    assert "mall.admin.products" in text
    for line in ("get(product_no)", "GET /api/v2/admin/products/{product_no}", "list()", "iterate()",
                 "create(product_name=..., supply_price=...)", "POST /api/v2/admin/products"):
        assert line in text, line
    assert "Namespaces below:" in text and "variants" in text
    assert "help(mall.admin.products.<action>)" in text
    assert "iterate_changes(since=...)" in text  # on the lists that can tell what changed
    assert "iterate_changes" not in render(mall.admin.products.variants)
    variants = render(mall.admin.products.variants.inventories)
    assert "get(product_no, variant_code)" in variants
    assert "api.dcollection.products" in render(api.dcollection.products)
    assert type(mall.admin.products).__name__ == "Admin_Products"  # as its protocol in api_types
    await api.close()


async def test_help_on_a_coroutine_reads_numbers_and_describes_every_option() -> None:
    api = Cafe24(client_id="cid", client_secret="secret")
    products = api.mall("acme").admin.products
    text = render(products.list)
    assert "e+0" not in text and "max 2,147,483,647" in text and "max 5,000" in text
    options = text.split("Call options:")[1]
    for option in ("fields:", "embed:", "typed:", "timeout:", "retry_writes:", "extra_params:"):
        assert option in options, option
    assert "variants" in options  # the embeddable sub-resources are named
    iterate = render(products.iterate).split("Call options:")[1]
    assert "concurrency:" in iterate and "retry_writes" not in iterate
    create = render(products.create).split("Call options:")[1]
    assert "request:" in create and "requests:" in create
    await api.close()

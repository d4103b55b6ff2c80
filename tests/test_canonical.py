from carewatch.core.urls import canonical_url, url_key


def test_tracking_parameters_and_fragment_are_dropped():
    url = "https://www.thechamberlainfiles.com/some-post/?utm_source=rss&utm_medium=rss#comments"
    assert canonical_url(url) == "https://www.thechamberlainfiles.com/some-post/"


def test_guardian_cmp_and_jetpack_share_params_are_dropped():
    assert canonical_url("https://www.theguardian.com/society/2023/apr/18/x?CMP=share_btn_tw") == (
        "https://www.theguardian.com/society/2023/apr/18/x"
    )
    assert canonical_url("https://example.org/post/?shared=email&msg=fail") == "https://example.org/post/"


def test_same_page_same_key_across_scheme_www_and_trailing_slash():
    keys = {
        url_key("https://www.thechamberlainfiles.com/post/"),
        url_key("http://thechamberlainfiles.com/post"),
        url_key("https://www.thechamberlainfiles.com/post/?utm_source=rss"),
    }
    assert keys == {"thechamberlainfiles.com/post"}


def test_cmis_document_query_is_kept_as_identity():
    a = url_key("https://birmingham.cmis.uk.com/birmingham/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=abc")
    b = url_key("https://birmingham.cmis.uk.com/birmingham/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=xyz")
    assert a != b and "Document.ashx?" in a


def test_bbc_feed_host_maps_to_site_host():
    assert canonical_url("https://feeds.bbci.co.uk/news/uk-england-birmingham-12345678") == (
        "https://www.bbc.co.uk/news/uk-england-birmingham-12345678"
    )


def test_page_rel_canonical_is_used_only_on_the_same_site():
    assert canonical_url("https://a.org/x?id=1", "https://a.org/story/") == "https://a.org/story/"
    assert canonical_url("https://a.org/x", "https://evil.example/other") == "https://a.org/x"

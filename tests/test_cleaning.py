"""Cleaning: encodings, HTML remnants, boilerplate, credits, breadcrumbs, titles."""

import random
from pathlib import Path

import pytest
import yaml

from search.ingest.cleaning import (UndecodableError, decode_bytes, is_boilerplate, is_breadcrumb, is_credit_line, pick_title, split_paragraphs, strip_html, strip_site_suffix)

SEEDS = Path(__file__).parent.parent / "seeds"
if not SEEDS.is_dir():
    SEEDS = Path("/work/shared/seeds")


def seed_bytes(prefix: str) -> bytes:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_bytes()


def read_seed(prefix: str) -> tuple[dict, str]:
    """(front matter, body) of the seed file whose name starts with ``prefix``."""
    text = seed_bytes(prefix).decode("utf-8")
    if text.startswith("---\n"):
        front, body = text[4:].split("\n---\n", 1)
        return yaml.safe_load(front), body
    return {}, text


def seed_lines(prefix: str) -> list[str]:
    return split_paragraphs(strip_html(read_seed(prefix)[1]))


# --- encodings -------------------------------------------------------------

TRADITIONAL = seed_bytes("002").decode("utf-8")
SIMPLIFIED = seed_bytes("003").decode("utf-8")


def test_utf8_with_and_without_bom_and_any_newlines():
    assert decode_bytes(SIMPLIFIED.encode("utf-8")) == SIMPLIFIED
    assert decode_bytes("\ufeff标题\r\n正文\r第三行\n".encode("utf-8")) == "标题\n正文\n第三行\n"
    assert decode_bytes("洛陽".encode("utf-8-sig")) == "洛陽"


def test_utf16_with_a_bom():
    assert decode_bytes("中文文本\r\n".encode("utf-16")) == "中文文本\n"


@pytest.mark.parametrize("text, encoding", [
    (SIMPLIFIED, "gb18030"),
    # GBK lacks • and the no-break space of the seed's footer.
    (SIMPLIFIED.encode("gbk", errors="ignore").decode("gbk"), "gbk"),
    (TRADITIONAL, "gb18030"),   # GB18030 encodes traditional characters too
    (TRADITIONAL, "big5"),
    (TRADITIONAL, "cp950"),
    (TRADITIONAL + "\n佢哋講嘢啲", "big5hkscs"),  # Cantonese characters only HKSCS has
])
def test_legacy_chinese_encodings_of_whole_articles(text, encoding):
    data = text.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_bytes(data, "a.txt") == text


@pytest.mark.parametrize("title", ["國際新聞", "學習", "台北", "香港", "貴陽", "網路", "高雄", "謝謝"])
def test_short_big5_titles(title):
    data = title.encode("big5")
    # The trap: the same bytes are valid GB18030, as other characters.
    wrong = data.decode("gb18030")
    assert wrong != title
    assert decode_bytes(data) == title


@pytest.mark.parametrize("title", ["中文", "你好", "北京", "电脑", "谢谢", "学习", "洛阳"])
def test_short_gbk_titles(title):
    data = title.encode("gbk")
    assert decode_bytes(data) == title


def test_gbk_that_happens_to_be_valid_utf8_is_read_as_gbk():
    data = "谢谢".encode("gbk")
    assert data.decode("utf-8") == "лл"  # valid UTF-8, as Cyrillic
    assert decode_bytes(data) == "谢谢"
    # ... while real Cyrillic in UTF-8 stays Cyrillic.
    assert decode_bytes("Привет, мир".encode("utf-8")) == "Привет, мир"


def test_a_classical_poem_full_of_rare_characters_in_gbk():
    poem = "关关雎鸠，在河之洲。\n窈窕淑女，君子好逑。\n蒹葭苍苍，白露为霜。\n饕餮魑魅魍魉\n"
    assert decode_bytes(poem.encode("gbk")) == poem


def test_utf8_cut_inside_its_last_character_loses_only_that_character():
    assert decode_bytes("中文文本".encode("utf-8")[:-1]) == "中文文"


def test_random_bytes_are_undecodable():
    rng = random.Random(20240601)
    data = bytes(rng.randrange(0x81, 0x100) for _ in range(3000))
    with pytest.raises(UndecodableError) as caught:
        decode_bytes(data, "/corpus/noise.txt")
    assert "/corpus/noise.txt" in str(caught.value)
    assert caught.value.reason and caught.value.path == "/corpus/noise.txt"


def test_random_valid_gbk_pairs_are_undecodable():
    # Every pair is a legal GBK character, but together they are no text.
    rng = random.Random(7)
    trail_bytes = list(range(0x40, 0x7F)) + list(range(0x80, 0xFF))
    data = b"".join(bytes([rng.randrange(0x81, 0xFF), rng.choice(trail_bytes)])
                    for _ in range(200))
    data.decode("gb18030")
    with pytest.raises(UndecodableError):
        decode_bytes(data)


def test_nul_bytes_in_a_text_file():
    with pytest.raises(UndecodableError, match="NUL"):
        decode_bytes("标题\n正文".encode("utf-8") + b"\x00\x00\x01\x02", "x.txt")


def test_control_characters_in_a_text_file():
    with pytest.raises(UndecodableError, match="control"):
        decode_bytes(b"text" + bytes(range(1, 9)) * 3)


def test_big5_and_gbk_glued_together_are_undecodable():
    traditional = "全球最大呼叫中心落戶河南洛陽\n據了解,這是目前全球最大的呼叫中心。\n"
    simplified = "全球最大呼叫中心落户河南洛阳\n据了解,这是目前全球最大的呼叫中心。\n"
    with pytest.raises(UndecodableError, match="mixed"):
        decode_bytes(traditional.encode("big5") + simplified.encode("gbk"), "x.txt")


def test_utf8_and_gbk_glued_together_are_undecodable():
    data = SIMPLIFIED[:300].encode("utf-8") + SIMPLIFIED[:300].encode("gbk")
    with pytest.raises(UndecodableError):
        decode_bytes(data)


# --- HTML remnants ---------------------------------------------------------

def test_strip_html_keeps_the_text_of_seed_000():
    _, body = read_seed("000")
    text = strip_html(body)
    assert "<img" not in text and "<!--" not in text and "more -->" not in text
    assert "老赫，最近挺火" in text


@pytest.mark.parametrize("html, expected", [
    ('前<img align="center" border="0" src="http://p2.ifengimg.com/a.png" />后', "前后"),
    ("前\n<!-- more -->\n后", "前\n\n后"),
    ("一行<br>二行<br/>三行", "一行\n二行\n三行"),
    ("<p>段落</p><div class='x'>盒子</div>", "\n段落\n\n盒子\n"),
    ('<a href="http://x.cn">链接文字</a>和<b>粗体</b><span style="c">字</span>', "链接文字和粗体字"),
    ("甲&nbsp;乙 &amp; 丙 &lt;b&gt; &#20013;&#x6587;", "甲 乙 & 丙 <b> 中文"),
    ("投稿郵箱: [gzhkwpp@163.com](mailto:gzhkwpp@163.com)", "投稿郵箱: gzhkwpp@163.com"),
    ("貴州頻道: <http://gz.wenweipo.com>", "貴州頻道: http://gz.wenweipo.com"),
    ("![图片说明](http://a.cn/1.jpg)正文", "图片说明正文"),
    ("<script>var a = 1 < 2;</script>正文<style>p {}</style>", "正文"),
    ("<o:p></o:p>Word 的残留", "Word 的残留"),
    ("<注:见下文>", "<注:见下文>"),
])
def test_strip_html(html, expected):
    assert strip_html(html) == expected


@pytest.mark.parametrize("prose", [
    "若 a < b 且 b > c，则……", "3<5 是对的", "x <y", "a=1&para=2", "AT&T 公司", "1 << 2",
    "# 貴陽", "■ 責任編輯：胡可強",
])
def test_strip_html_leaves_prose_alone(prose):
    assert strip_html(prose) == prose


def test_split_paragraphs():
    body = "\n  2月14日，西方情人节。\n\n\u3000\u3000第二段  \n \t\n第三段"
    assert split_paragraphs(body) == ["2月14日，西方情人节。", "第二段", "第三段"]


# --- boilerplate, breadcrumbs, credits -------------------------------------

SEED_BOILERPLATE = [
    "标签：",
    "热门标签:电话销售团队 电销行业 网站建设 太平洋寿险电话营销 AI人工智能 话术 Win7旗舰版 电话外呼服务",
    "标签:宿州 儋州 云南 漯河 宁夏 延安 普洱 南昌",
    "巨人网络通讯声明:本文标题《写在2012国际呼叫中心峰会即将在淮召开之际(上) --甜蜜的牵手美丽的梦》,"
    "本文关键词  ;如发现本文内容存在版权问题,烦请提供相关信息告之我们,我们将及时沟通与处理。"
    "本站内容系统采集于网络,涉及言论、版权与本站无关。",
    "  • 相关文章", "  • 收缩", "    • 微信客服", "    • 微信二维码", "    • 电话咨询", "    • 400-1100-266",
    "主页 > 知识库 > 写在2012国际呼叫中心峰会即将在淮召开之际(上) --甜蜜的牵手美丽的梦",
    "貴州頻道: <http://gz.wenweipo.com>",
    "新聞熱線: 86+851+6870283",
    "投稿郵箱: [gzhkwpp@163.com](mailto:gzhkwpp@163.com)",
    "投稿郵箱: gzhkwpp@163.com",
]


@pytest.mark.parametrize("line", SEED_BOILERPLATE)
def test_seed_boilerplate_is_dropped(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", [
    "標籤：宿州 儋州", "熱門標籤:電話銷售團隊", "关键词：呼叫中心", "Tags: call center",
    "• 相關文章", "相关阅读：老赫的故事", "上一篇：老赫的故事", "分享到：", "返回顶部",
    "• 微信二維碼", "電話諮詢", "收縮",
    "400 1100 266", "(0851) 8687-0283",
    "客服热线：400-1100-266", "電話：0851-86870283", "邮箱：abc@163.com",
    "新闻热线", "http://gz.wenweipo.com",
    "版權所有 © 2014 文匯報", "Copyright © 2019 wetech. All rights reserved.",
    "免責聲明：本站內容僅供參考",
    "聲明:本文由網友投稿，不代表本站觀點",
    "轉載請註明出處", "版权归原作者所有，如有侵权请联系删除",
    "本網內容均採集於網絡", "未經本報書面授權，不得轉載",
    "[首页](/) | [新闻](/news) | [关于我们](/about)",
    "首页 | 新闻 | 关于我们",
    "•", "■", "  ■  ", "* * *", "---",
    # A news page's own prompts, footers and datelines (web pages).
    "微信扫一扫 关注该公众号", "微信掃一掃", "關注該公眾號",
    "更多猛料！欢迎扫描左方二维码关注新浪新闻官方微信（xinlang-xinwen）",
    "专注苹果新闻报道，每日推送最新苹果资讯。扫描下方二维码关注苹果汇官方微信",
    "安装新浪财经客户端第一时间接收最全面的市场资讯→【下载地址】",
    "“2018十大经济年度人物评选”火热进行中！【点击投票】Pick你心目中的商业领袖",
    "最后更新: 2019-09-07 15:14:21", "發佈時間：2019年9月7日",
    "主办单位：某某大学纪检监察室 版权所有地址：太原市新建南路56号 邮编：030001",
])
def test_boilerplate_in_both_scripts(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", [
    # Prose about copyright is the article, not a notice.
    "該公司高度重視版權保護，去年起訴了三家盜版網站。",
    "新修订的著作权法明确了版权归属，作者可以依法维权。",
    "他说，版权问题是数字出版绕不开的话题。",
    # Prose mentioning widgets, tags and phone numbers.
    "她在微信客服岗位工作了三年，每天接听两百个电话咨询。",
    "标签化管理让客服效率提高了一倍。",
    "客服电话400-1100-266每天接入上万个呼叫。",
    # Lines that look bare but carry the text's date or meaning.
    "2014年第11期(總第62期)",
    "2014-09-18",
    "……",
    "客觀 直面 理性 熱忱",
    "# 貴陽",
    "## 將建「黔中聲谷」呼叫全球",
    "如果 x > 5，则取 5。",
    "> 引用一段原文：呼叫中心是一种综合信息服务系统。",
    # Prose about QR codes, clients and updates.
    "他扫描二维码关注了公众号，然后在手机上完成了付款，整个过程不到一分钟。",
    "记者下载了多家银行的客户端进行对比。",
    "主办单位：洛阳市人民政府",
    "最后更新的版本修复了三个问题。",
    "",
])
def test_prose_is_kept(line):
    assert not is_boilerplate(line)


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_no_sentence_of_the_seeds_is_boilerplate(prefix):
    for line in seed_lines(prefix):
        if "。" in line and "本站" not in line:
            assert not is_boilerplate(line), line


@pytest.mark.parametrize("line", [
    "主页 > 知识库 > 写在2012国际呼叫中心峰会即将在淮召开之际(上) --甜蜜的牵手美丽的梦",
    "首頁 > 新聞中心", "Home » News » 标题", "当前位置：首页 > 新闻", "您的位置: 首頁>新聞>正文",
    "新闻 > 国内 > 全球最大呼叫中心落户河南洛阳",
])
def test_breadcrumbs(line):
    assert is_breadcrumb(line)
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", [
    "> 引用一段原文", "如果 x > 5，则取 5。", "收入 > 支出", "写在2012国际呼叫中心峰会即将在淮召开之际",
    "甲方认为，价格 > 成本 > 预期，所以……", "申请 → 审核 → 发放",
])
def test_not_breadcrumbs(line):
    assert not is_breadcrumb(line)


@pytest.mark.parametrize("line", [
    "■ 責任編輯：胡可強 版面設計：萬丹丹",
    "■ 责任编辑：胡可强 版面设计：万丹丹",
    "[责任编辑：梁帅]", "[責任編輯：邵曉黎]",
    "來源:中國日報河南記者站(記者 馬守國 常 城)編輯:于姝楠",
    "■ 香港文匯報記者 章蘿蘭 路艷寧 上海 貴陽報道",
    "本报记者 张三 北京报道",
    "（记者 马守国 常城）",
    "貴州財經大學「世界樹」呼叫中心的坐席人員正在與客戶對話。 南明區委宣傳部供圖",
    "爽爽贵阳气候宜人，生态良好。 贵阳市委宣传部供图",
    "分享通信雲呼叫中心即將落戶貴陽。 路艷寧 攝",
    "文/张三", "图｜新华社", "撰文：李四", "（受访者提供）", "图为签约现场。（受访者供图）",
])
def test_credit_lines(line):
    assert is_credit_line(line)


@pytest.mark.parametrize("line", [
    "記者：您認為貴陽發展呼叫中心的優勢在哪裡？",  # an interview question
    "（张树永武玉清记者孙昊）老赫，最近挺火，网红大江南北。",
    "記者獲悉，峰會組委會最終決定落戶貴陽舉辦。",
    "政府为企业提供",
    "全球最大呼叫中心落戶河南洛陽",
    "编辑部的故事",
])
def test_not_credit_lines(line):
    assert not is_credit_line(line)


# --- titles ----------------------------------------------------------------

@pytest.mark.parametrize("prefix, expected", [
    ("000", "老赫让小城孕育出呼叫大产业记牡丹江晨辉人力资源有限责任公司董事长赫明辉"),
    ("001", "老赫的故事让你学会了啥？！"),
])
def test_seed_front_matter_titles_lose_the_site_suffix(prefix, expected):
    front, _ = read_seed(prefix)
    assert front["title"] == expected + "_黑龙江频道"
    assert strip_site_suffix(front["title"]) == expected


@pytest.mark.parametrize("prefix, expected", [
    ("002", "全球最大呼叫中心落戶河南洛陽"),
    ("003", "写在2012国际呼叫中心峰会即将在淮召开之际(上) --甜蜜的牵手美丽的梦"),
    # Kicker and headline of the page (# 貴陽 / ## 將建…), past the editor's
    # credit, three sentences of prose, the byline and a photo caption.
    ("004", "貴陽 將建「黔中聲谷」呼叫全球"),
])
def test_seed_titles_from_the_text(prefix, expected):
    assert pick_title(seed_lines(prefix)) == expected
    # Raw lines, with blank lines and HTML, give the same title.
    assert pick_title(read_seed(prefix)[1].split("\n")) == expected


@pytest.mark.parametrize("title, expected", [
    ("老赫的故事让你学会了啥？！_黑龙江频道", "老赫的故事让你学会了啥？！"),
    ("全球最大呼叫中心落户河南洛阳-新浪新闻", "全球最大呼叫中心落户河南洛阳"),
    ("全球最大呼叫中心落戶河南洛陽 - 新浪新聞", "全球最大呼叫中心落戶河南洛陽"),
    ("貴陽將建黔中聲谷 | 香港文匯網", "貴陽將建黔中聲谷"),
    ("洛阳呼叫中心_国内新闻_新浪网", "洛阳呼叫中心"),
    ("洛阳呼叫中心 - sina.com.cn", "洛阳呼叫中心"),
    ("洛阳呼叫中心｜人民网", "洛阳呼叫中心"),
    # Not a site: subtitles, hyphenated words, a title that is only a site.
    ("写在2012国际呼叫中心峰会即将在淮召开之际(上) --甜蜜的牵手美丽的梦",
     "写在2012国际呼叫中心峰会即将在淮召开之际(上) --甜蜜的牵手美丽的梦"),
    ("COVID-19新闻", "COVID-19新闻"),
    ("呼叫中心 - 从一线城市到二三线城市", "呼叫中心 - 从一线城市到二三线城市"),
    ("新浪网", "新浪网"),
    ("  老赫的故事  ", "老赫的故事"),
])
def test_strip_site_suffix(title, expected):
    assert strip_site_suffix(title) == expected


def test_pick_title_skips_long_prose_and_strips_heading_marks():
    prose = "不久的將來，當喜愛網購的你撥通淘寶網、京東商城的售後服務電話時，您或許是和貴陽對話。"
    assert pick_title([prose, "", "# 貴州報道", "正文"]) == "貴州報道"
    assert pick_title(["## 呼叫中心向二三線城市轉移 ##"]) == "呼叫中心向二三線城市轉移"
    assert pick_title(["呼" * 81]) is None


def test_a_short_sentence_or_a_poem_line_can_be_a_title():
    assert pick_title(["洛陽市是國家確定的呼叫中心產業基地之一。", "正文"]) \
        == "洛陽市是國家確定的呼叫中心產業基地之一。"
    assert pick_title(["床前明月光，疑是地上霜。"]) == "床前明月光，疑是地上霜。"


def test_a_kicker_joins_only_a_deeper_heading_right_below_it():
    assert pick_title(["# 貴陽", "", "## 將建「黔中聲谷」呼叫全球"]) == "貴陽 將建「黔中聲谷」呼叫全球"
    assert pick_title(["# 貴陽", "正文第一段。"]) == "貴陽"
    assert pick_title(["# 貴陽", "# 貴州報道"]) == "貴陽"
    assert pick_title(["## 呼叫中心", "# 貴州報道"]) == "呼叫中心"


def test_pick_title_strips_the_site_suffix_and_skips_furniture():
    lines = ["当前位置：首页 > 新闻", "[责任编辑：梁帅]", "• 相关文章", "洛阳呼叫中心_新浪网", "正文"]
    assert pick_title(lines) == "洛阳呼叫中心"


def test_a_breadcrumb_is_the_title_only_when_nothing_else_is():
    long_prose = "呼叫中心是一种基于计算机与电话集成技术的综合信息服务系统。" * 3
    assert pick_title(["首页 > 新闻 > 全球最大呼叫中心落户河南洛阳", long_prose]) \
        == "全球最大呼叫中心落户河南洛阳"
    assert pick_title(["首页 > 新闻 > 正文", long_prose]) is None


def test_pick_title_ignores_html_in_the_lines_it_is_given():
    assert pick_title(["<!-- more -->", '<img src="a.png" />', "<b>標題</b>"]) == "標題"


def test_nothing_to_pick():
    assert pick_title([]) is None
    assert pick_title(["", "  ", "•", "标签："]) is None

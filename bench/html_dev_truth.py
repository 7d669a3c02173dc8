"""The judged table of html-dev: what the article of each page is, judged by reading the page.

    python -m bench.html_dev_truth [PAGES_DIR]

html-dev is 36 saved Chinese news pages (``../shared/corpora/html-dev``,
file names ``SITE_N.html``; GPL-3, read from there at run time and never
copied here).  Each page was read as a browser shows it -- its headline,
byline and date lines, the article, the navigation, share bars, comments,
related-article lists and footer -- independently of any extractor, and
``PAGES`` records what a reader would call the article:

``title``
    The headline as the page shows it above the article (the ``<h1>`` or
    the visible headline, not ``<title>`` with the site name, not
    "原标题：...").  An extracted title is right when it equals ``title``
    or one of ``title_also`` (other forms a reader accepts, such as the
    headline without a keyword prefix a site put in front of it).
``date``
    ``YYYY-MM-DD``, the publication date the page states (on its dateline,
    or where the page only says "昨天", in its own markup); None when the
    page states none.  An extracted date is right when it is this day.
``first``
    How the article's first paragraph starts (on 163_9, whose paragraphs
    are half-sentences, the first two).  An extracted body starts right
    when, white space ignored, it starts with ``first`` or with one of
    ``first_also`` (a "原标题：..." line, a photo caption or a byline a
    page puts before its first paragraph, which a reader accepts as the
    article's beginning); a body that starts later (its first paragraph
    lost) or earlier (navigation, a share bar) does not.
``last``
    How the article's last paragraph starts (before the source and editor
    lines), or a phrase late in a one-paragraph article; absent for a
    gallery whose only text is ``first``.  An extracted body that holds it
    has not been cut short.
``boilerplate``
    Strings of 6-20 characters the page shows outside the article --
    navigation, share bars, comment prompts and comments, related and
    recommended articles, app blurbs, footer and copyright lines -- and
    that the article itself never contains.  Each one found in an
    extracted body is a piece of page furniture kept.
``note``
    When the page is unusual (a gallery, a paginated article, a law text).

Comparisons are meant to ignore white space: pages break a paragraph over
source lines and a browser shows one space, an extractor may keep either.
``check`` verifies the table against the pages: every string is in the
page's visible text, ``first`` comes before ``last``, no boilerplate string
lies between them, and the date is stated between the headline and the
article (after the article on two pages; in the script of WeChat pages).
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES_DIR = REPO.parent / "shared" / "corpora" / "html-dev"

# Boilerplate every NetEase article page (163_1 to 163_8) shows around the article.
_NETEASE = ["网友评论仅供其表达个人看法", "网易公司版权所有", "跟贴广场|手机发跟贴"]
_GUANCHA = ["请自觉遵守互联网相关的政策法规", "观察者网用户管理制度", "违法及不良信息举报电话"]
_SINA = ["新浪公司 版权所有"]
_SINA_NEWS = ["欢迎扫描左方二维码关注新浪新闻官方微信", "新浪新闻意见反馈留言板", "违法和不良信息举报电话"]
# A WeChat page shows only its QR box outside the article until the reader opens
# a panel (profile card, reward, 在看 and comments); their text is furniture too.
_WECHAT = ["微信扫一扫 关注该公众号", "前往“发现”-“看一看”浏览“朋友在看”"]

PAGES: dict[str, dict] = {
    "163_1.html": {
        "title": '多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？',
        "date": "2019-09-07",
        "first": "2019年，龙湖集团即将迎来赴港上市10周年。",
        "first_also": ["（原标题：多地项目连环爆雷 狂奔的龙湖集团"],
        "last": "经过三年狂奔的龙湖，在众多项目爆发业主维权的糟糕时期",
        "boilerplate": _NETEASE + ["加载更多新闻", "返回网易首页"],
    },
    "163_2.html": {
        "title": "姚明对周琦说了啥？周琦上下半场判若两人",
        "date": "2019-09-07",
        "first": "新京报讯2019年篮球世界杯17-32名排位赛",
        # The body opens with the paper's own headline and a video still's caption.
        "first_also": ["（原标题：姚明对周琦说了啥？", "姚明对周琦说了啥？大魔王上下半场判若两人",
                       "姚明场边支招周琦。视频截图"],
        "last": "比赛第三节还剩8分多钟，姚明在周琦上场前叮嘱道",
        "boilerplate": _NETEASE + ["加载更多新闻", "返回网易首页"],
    },
    "163_3.html": {
        "title": '奖金711万元！"中国诺贝尔奖"首位获奖女性啥来头?',
        "date": "2019-09-08",
        "first": "今天(9月7日)下午，有着“中国诺贝尔奖”之称的未来科学大奖",
        "first_also": ["（原标题：单项奖金100万美元，“中国诺贝尔奖”揭晓！"],
        "last": "时至今日，王小云也为自己的选择而自豪",
        "boilerplate": _NETEASE + ["加载更多新闻", "返回网易首页"],
    },
    "163_4.html": {
        "title": "华为Mate20X 5G版半天不到需充电 耗电制约5G芯片",
        "date": "2019-09-07",
        "first": "华为已经预告，在即将到来的2019 IFA（柏林消费电子展）期间",
        "first_also": ["（原标题：5G手机芯片江湖：玩家减少、五强争霸"],
        "last": "5G时代是万物互联的时代，手机芯片的竞赛之外",
        "boilerplate": _NETEASE + ["加载更多新闻", "返回网易首页"],
    },
    "163_5.html": {
        "title": "女警打百个电话遭停机 评:运营商识别诈骗智商感人",
        "date": "2019-09-07",
        # A commentary: a one-line standfirst, then the article proper.
        "first": "认定诈骗和骚扰，不能省略必要的核实程序而“不审即判”。",
        "first_also": ["（原标题：民警电话遭停机"],
        "last": "归根结底，打击拦截电信诈骗也得精准拦截",
        "boilerplate": _NETEASE + ["女警一天打100电话被停机", "返回网易首页"],
        "note": "a video player (its fallback text, title and source) sits between the 原标题 line "
                "and the article; a related-article box (延伸 · 推荐) follows it inside the article's element",
    },
    "163_6.html": {
        "title": '男孩因不想上补习班 写"救命啊"纸团抛出引来警察',
        "date": "2019-09-09",
        "first": "华龙网-新重庆客户端讯 今（9）日，华龙网-新重庆客户端记者",
        "first_also": ["（原标题：“救命啊SOS”纸团从天而降！", "“救命啊SOS”纸团。沙坪坝区公安分局供图"],
        "last": "了解情况后民警告诉他，身处险境",
        "boilerplate": _NETEASE + ["加载更多新闻", "返回网易首页"],
    },
    "163_7.html": {
        "title": "亚马逊海外购“限时快闪店”登陆拼多多",
        "date": "2019-11-25",
        "first": "新京报讯（记者 陆一夫）11月25日，新京报记者登录拼多多全球购页面",
        "first_also": ["（原标题：“黑五”战役打响 亚马逊海外购登陆拼多多）"],
        "last": "今年国内跨境电商行业景气度高于电商整体行业水平",
        "boilerplate": _NETEASE + ["返回网易首页"],
    },
    "163_8.html": {
        "title": "国务院联防联控机制:湖北和武汉要严格管控防输出",
        "date": "2020-02-29",
        "first": "新华社北京2月29日电 2月28日，国务院联防联控机制印发",
        "first_also": ["（原标题：国务院联防联控机制印发通知"],
        "last": "《通知》强调，各地区要根据当前疫情防控形势和要求",
        # The 延伸阅读 list sits inside the article's element, after its last paragraph.
        "boilerplate": _NETEASE + ["张文宏:上海零新增我很担心", "返回网易首页"],
    },
    "163_9.html": {
        "title": "5月20日至31日，京沪高速无锡至江阴大桥至广陵枢纽段封闭！",
        "date": "2019-05-17",
        "first": "下周一，京沪高速施工就将进入第二阶段，",
        "last": "道路施工会给大家的出行带来不便",
        "boilerplate": ["网友评论仅供其表达个人看法", "网易公司版权所有", "下载网易新闻客户端",
                        "关注苏皖城市发展，人文地理！", "特别声明：以上内容", "高铁“颍上北站”站名安装完毕"],
        "note": "a NetEase 网易号 page declared gb2312 but encoded in UTF-8; "
                "the article is many one-line paragraphs",
    },
    "cjddsb_1.html": {
        "title": "常德市金融系统积极开展“金融知识普及月 金融知识进万家”活动",
        "date": "2019-09-23",
        "first": "为持续推动金融消费者教育和金融知识普及工作",
        "last": "本次活动主题是进一步贯彻落实党的十九大精神",
        "boilerplate": ["留言与评论（共有 0 条评论）", "当代商报南京网络传媒有限公司",
                        "安康最大洪峰过境多广场被淹", "法官驱车送赔偿款获当事人点赞", "苏ICP备17065836号"],
        "note": "the date line (发布日期) comes after the article, not under the headline",
    },
    "cmse_1.html": {
        "title": "天宫一号与神舟九号载人交会对接任务第二场新闻发布会",
        "date": "2012-06-24",
        # A spokesman's statement: a date line and the speaker's name precede the address.
        "first": "女士们、先生们：",
        "first_also": ["2012年6月24日", "中国载人航天工程新闻发言人 武平"],
        "last": "上面介绍的是关于这次任务的有关情况",
        "boilerplate": ["版权所有：中国载人航天工程官方网站", "京ICP备20027467号-1", "载人航天官方微信",
                        "中国探月与深空探测", "字号: [大] [中] [小]"],
        "note": "no <h1>: the headline is a div; a press statement rather than a news story",
    },
    "gamersky_gamersky.html": {
        "title": "逆水寒再按照这个速度研发下去 应该马上就要收到律师函了！",
        "date": "2019-09-05",
        "first": "《逆水寒》每周的版本更新都安排在周四",
        "last": "逆水寒在追热点方面不仅追的巧，还追的快！",
        "boilerplate": ["打开游民APP，查看更多精彩内容", "《圣歌》首席制作人离职", "这款Steam免费游戏特别好评",
                        "独家探营！《无主之地3》", "热门H5手游"],
        "note": "page 1 of 2 of a paginated article; the <time> elements belong to the related list",
    },
    "guancha_2.html": {
        "title": "我国集成电路进口突破3000亿美元！魏少军：产业结构扭曲，没将产品作为中心",
        "date": "2019-09-07",
        "first": "9月3日，在第二届全球IC企业家大会暨第十七届中国国际半导体博览会开幕式上",
        "last": "魏少军表示，因为中国产业结构和国际上发达国家不一样",
        "boilerplate": _GUANCHA + ["伊利设“硬核”股权激励考核指标", "小编最近文章"],
        "note": "no <h1>: the headline is an <h3>",
    },
    "guancha_3.html": {
        "title": "苹果回应“违反中国劳动法”：大多数指控错误",
        "date": "2019-09-09",
        "first": "据中新网9月9日报道，针对外媒“苹果公司违反中国劳动法”的报道",
        "last": "记者通过电子邮件联系了富士康，截至发稿时，尚未收到回应。",
        "boilerplate": _GUANCHA + ["苹果手机放裤袋自燃 男子被严重烫伤", "小编最近文章"],
        "note": "no <h1>: the headline is an <h3>; the article is six short paragraphs",
    },
    "guancha_guancha.html": {
        "title": "王文：中美贸易“持久战”，中国人的斗志被激发",
        "date": "2019-09-07",
        "first": "“中美贸易战正在变成一场持久战，但我们已有准备。”",
        "first_also": ["【文/观察者网专栏作者 王文】"],
        "last": "在深圳大疆、深圳海能达等企业，笔者同样听到了不少企业界人士的坚定信心。",
        "boilerplate": _GUANCHA + ["请支持独立网站，转发请注明本文链接", "作者最近文章"],
        "note": "page 1 of 2 (余下全文 links to the rest); no <h1>: the headline is an <h3>",
    },
    "gzggw_1.html": {
        "title": "1-10月德清县固定资产投资结构趋稳趋优",
        # Maketime in the markup (2019-03-22) is when the page was regenerated, not published.
        "date": "2016-11-22",
        "first": "1-10月，全县固定资产投资完成246.79亿元",
        "last": "其中第三产业投资完成119.90亿元",
        "boilerplate": ["中国·浙江省发展和改革委员会 版权所有", "浙ICP备05018911号", "技术支持：浙江省经济信息中心",
                        "国家发改委|中国浙江|浙江政务服务网", "版权保护 丨 联系我们"],
        "note": "a government page whose article is a single paragraph",
    },
    "huanqiu_1.html": {
        "title": "补壹刀：别笑！18人的“新八国联军”今天成立了",
        "date": "2020-06-05",
        "first": "西方世界的一些反华分子正试图串联起来。",
        "first_also": ["执笔/叨叨姐、胡一刀&李小飞刀"],
        "last": "刀哥想说，都9020年了，自信一点，理性一点，可以吗。",
        "boilerplate": ["我们将会减少此类文章的推荐", "标题夸张、文不对题", "其他问题，我要吐槽",
                        "环球微信公众号", "补壹刀微信公号"],
    },
    "njxfhn_1.html": {
        "title": "[诗婷露雅化妆品]江门七旬阿婆接来电称其涉黑被骗上百万！冒充公检法电诈团伙被端",
        "title_also": ["江门七旬阿婆接来电称其涉黑被骗上百万！冒充公检法电诈团伙被端"],
        "date": "2019-09-11",
        "first": "冒充银行经理来电骗事主称其有巨额信用卡欠款",
        "first_also": ["原标题：江门七旬阿婆接来电称其涉黑被骗上百万！"],
        "last": "江门警方提示，接到自称是公安、检察院、法院、银行等单位人员的来电",
        "boilerplate": ["Powered By Z-BlogPHP", "十博体育投注官网", "欧冠-梅西送助攻苏神双响救主",
                        "雷霆尝试交易亚当斯", "皖ICP备10015907号"],
        "note": "a republishing site that puts a keyword in brackets before the headline; "
                "the article is a 南方都市报 story",
    },
    "people_1.html": {
        "title": "女儿出嫁，郑板桥画了几笔兰花当嫁妆",
        "date": "2019-06-15",
        "first": "父亲的教诲像一盏灯，为我们照亮前行的路",
        "first_also": ["点击进入“文艺星青年”>>"],
        "last": "虽然，东方朔为人洒脱不羁，但，在这首诫子诗中",
        "boilerplate": ["人 民 网 版 权 所 有", "人民日报客户端下载", "丢了嫁妆多亏铁警找回",
                        "敦煌石窟里的动物世界", "登录人民网通行证", "地方领导留言板"],
        "note": "page 1 of 4 (【1】【2】【3】【4】); declared GB2312 but encoded in UTF-8; "
                "poems set one line per paragraph",
    },
    "shanxi_1.html": {
        "title": "山西品牌丝路行（南美站）正式启动",
        "date": "2019-09-18",
        "first": "跨越千山万水，行程近两万公里，山西品牌丝路行首次登陆巴西",
        "first_also": ["成功举办中国（山西）－巴西双向经贸投资推介会", "图为山西品牌丝路行（南美站）启动仪式。"],
        "last": "山西品牌丝路行主题为“走丝绸之路，促合作共赢”。",
        "boilerplate": ["扫一扫在手机打开当前页面", "山西省人民政府网 版权所有", "晋ICP备12000773号",
                        "使用大于1366*768分辨率", "省政府常务会议"],
        "note": "the page's <h1> is the site name (山西省人民政府网站); the headline is an <h2> "
                "with a subtitle under it",
    },
    "sina_1.html": {
        "title": "中国人习以为常的地方 为何老外却说“了不得”？",
        "date": "2019-11-25",
        "first": "“你们将开始明白为什么我这么喜欢中国，因为这里充满了活力",
        "first_also": ["原标题：视界丨这个中国人习以为常的地方", "视频-这个中国人习以为常的地方"],
        "last": "BBC称，不只是温哥华，伦敦、柏林等城市也都开始效仿中国",
        "boilerplate": _SINA + _SINA_NEWS + ["卷走10亿坐拥23套房", "投资热点尽在新浪财经APP"],
    },
    "sina_2.html": {
        "title": '60万"12306账号"外泄? 中铁总辟谣称消息不实',
        "date": "2018-12-28",
        "first": "新京报快讯（记者 裴剑飞）今日（12月28日）有网友爆料",
        "last": "铁路部门提醒广大旅客，请通过铁路12306官方网站",
        # Two promotion lines open the article's element, before the story.
        "boilerplate": _SINA + ["【点击投票】Pick你心目中的商业领袖", "一张榜单尽显中国经济的",
                                "海尔4名员工午休被开除", "新浪财经APP"],
    },
    "sina_3.html": {
        "title": "债券市场是否存在泡沫？世界知名首席投资官们这么说",
        "date": "2019-09-09",
        "first": "随着低增长、低利率、低通胀成为新的常态，资金不断涌入避险资产",
        "first_also": ["原创： 路闻卓立编译 人民币交易与研究"],
        "last": "我们预计英国央行将在11月降息25个基点",
        "boilerplate": _SINA + ["安装新浪财经客户端第一时间接收", "免责声明：自媒体综合提供的内容",
                                "海尔4名员工午休被开除", "关注公众号查看全文"],
        "note": "an interview laid out as question/answer pairs under numbered headings",
    },
    "sina_4.html": {
        "title": "苹果发布新iPhone 11：64GB售5499元 256GB售6799元",
        "date": "2019-09-11",
        "first": "新浪科技讯 北京时间9月11日凌晨消息，苹果2019秋季发布会开幕",
        "last": "目前，天猫作为苹果在官网之外开设的唯一线上商店",
        "boilerplate": _SINA + ["新酷产品第一时间免费试玩", "扫描下方二维码关注苹果汇官方微信",
                                "直播2019年苹果发布会", "新浪科技意见反馈留言板"],
        "note": "a video player and a 相关新闻 list sit between the dateline and the article",
    },
    "sina_5.html": {
        "title": "陈同佳刑满出狱 向潘晓颖家人鞠躬致歉",
        "date": "2019-10-23",
        "first": "出狱了。据港媒刚刚消息，触发香港特区政府修订《逃犯条例》",
        "first_also": ["原标题：快讯！陈同佳刑满出狱", "视频-陈同佳出狱 鞠躬说“对不起”"],
        "last": "说完这些话后，陈同佳上车离开了现场。",
        "boilerplate": _SINA + _SINA_NEWS + ["此前报道：港媒曝陈同佳出狱前首受访", "点击进入专题："],
    },
    "sina_sina.html": {
        "title": "最强“中国芯”本月商用 华为抢跑5G芯片大战",
        "date": "2019-09-07",
        "first": "用户对性能永无止境的追求，让芯片领域迎来了巅峰对决。",
        "first_also": ["原标题：最强“中国芯”本月商用 华为抢跑5G芯片大战"],
        "last": "据艾伟披露，迄今为止华为在5G相关芯片研发的累计投入上已超过10亿美元。",
        "boilerplate": _SINA + _SINA_NEWS + ["投资热点尽在新浪财经APP", "惠誉下调香港信用评级"],
    },
    "sxmu_1.html": {
        "title": "中华人民共和国监察法",
        "date": "2018-05-17",
        "first": "《中华人民共和国监察法》是为了推进全面依法治国",
        "first_also": ["中华人民共和国监察法"],
        "last": "第六十九条　本法自公布之日起施行。",
        "boilerplate": ["主办单位：山西医科大学纪检监察室", "添加收藏夹 | 设为首页", "太原市新建南路56号",
                        "太原理工大学", "山西财经大学"],
        "note": "a law text (nine chapters, 69 articles) on a university office's page; "
                "the headline repeats as the body's first line",
    },
    "toutiao_2.html": {
        "title": "最不愁吃肉的国家：顿顿有肉吃，却要靠中国运输蔬菜水果",
        "date": "2019-09-08",
        "first": "当全世界绝大部分国家都在为能够吸引中国游客到来而绞尽脑汁的时候",
        "boilerplate": ["为您推荐了12篇文章", "北京字节跳动科技有限公司", "新时代中国奇迹：这片曾威胁过首都的沙漠",
                        "跟帖评论自律管理承诺书", "老照片：1933年的中国各地鸟瞰图"],
        "note": "a photo gallery (1/10): the only text is the first photo's caption; "
                "the headline carries a 原创 badge",
    },
    "toutiao_3.html": {
        "title": "海螺沟寻子一个月：儿子消失在眼前十几米，搜寻无果母亲不舍离去",
        "date": "2019-09-09",
        "first": "8岁儿子在四川海螺沟景区失联的第32天，9月2日，温先生启程返回湖北十堰。",
        "last": "小温父母在等待，此前通过所有能想到的渠道发布的消息",
        "boilerplate": ["绑架9岁男童嫌犯一审被判死刑", "建议以后这种危险景区给游客佩戴定位手环", "男篮世界杯八强诞生",
                        "获赔140万拆迁款婆婆却把儿媳和孙子告了"],
    },
    "toutiao_4.html": {
        "title": "较强冷空气来袭 全国多地开启“抖抖抖”模式",
        "date": "2019-11-25",
        "first": "综合消息，近日，较强冷空气袭击多地",
        "last": "温馨提醒：本周全国不少地区气温持续低迷",
        "boilerplate": ["湿冷“魔法攻击”即将来袭", "棉衣已备好坐等冷空气来降温", "江南华南局地降温超10℃",
                        "路威酩轩正式收购蒂芙尼"],
    },
    "toutiao_5.html": {
        "title": "顺丰小哥汪勇连升3级，国家授予特别奖：时代永远在奖励解决问题的摆渡人",
        "date": "2020-03-09",
        "first": "最近，武汉一个顺丰小哥汪勇直升3级，从一个快递员被火线提拔为分公司经理。",
        "last": "“疫情过后如果我们都安好的话，我希望能多陪陪家人”。",
        "boilerplate": ["“最强快递小哥”凭什么能撬动各方资源", "这样的人就应该提拨重用", "火箭军和女护士这门“亲事”",
                        "马云亲自答应护士小姐姐火锅邀约"],
        "note": "many one-sentence paragraphs and numbered section marks (1 to 5)",
    },
    "toutiao_toutiao.html": {
        "title": "英国独立游戏，经典游戏规则与RPG成长冒险元素结合体验",
        "date": "2019-09-04",
        "first": "FreeCell Quest是一款以经典纸牌游戏空当接龙为核心玩法",
        "last": "游戏在Steam售价36元，支持Windows和MAC，暂时没有简体中文",
        "boilerplate": ["为您推荐了10篇文章", "香港警方3日拘捕35人", "国产独立游戏，新颖的惩罚熊孩子题材",
                        "克里米亚前美女检察长宣布自己已经离婚"],
    },
    "wechat_1.html": {
        "title": "三星 Galaxy S20 系列手机正式发布",
        # The page shows "昨天"; its script's publish time (var ct) is 2020-02-12 22:17 Beijing time.
        "date": "2020-02-12",
        "first": "今天凌晨，三星在美国旧金山举行发布会，正式发布旗下新一代旗舰手机",
        "last": "除 Galaxy S20 系列手机外，「翻盖式」折叠屏手机 Galaxy Z Flip 也一并发布",
        "boilerplate": _WECHAT + ["领域的行业思考和产品体验", "删除该留言吗？"],
        "note": "WeChat article; the date is shown relative (昨天), absolute only in the page's script; "
                "most furniture sits in panels shown on use",
    },
    "wechat_2.html": {
        "title": "一日一技：在 Python 中实现延迟调用",
        # The page shows "前天"; its script's publish time (var ct) is 2020-02-11 18:47 Beijing time.
        "date": "2020-02-11",
        "first": "熟悉 Golang 的同学都知道，Golang 里面有一个关键词叫做defer",
        "first_also": ["摄影：产品经理"],
        "last": "无论是正常运行结束还是运行过程中报错，add_ts函数都会正常运行",
        "boilerplate": _WECHAT + ["微信 iOS 版的赞赏功能被关闭", "长按二维码向我转账", "博主喜欢Python和爬虫"],
        "note": "WeChat article with Python code blocks; the date is shown relative (前天)",
    },
    "xinhuanet_1.html": {
        "title": "法国全国大罢工再次严重影响交通",
        "date": "2019-12-10",
        "first": "新华社巴黎12月9日电（记者唐霁）法国9日再次爆发全国跨行业大罢工",
        "last": "法国总统马克龙此前提出对全国退休制度进行改革",
        "boilerplate": ["新华社简介 公司官网 联系我们", "技术之罪需规则规避", "四川一明代古墓出土500年前鸡蛋",
                        "学校只剩一名学生，她却坚守了18年", "欧盟外长理事会会议在布鲁塞尔举行"],
    },
    "zyyfy_1.html": {
        "title": "【不忘初心 牢记使命】我院医技药剂党支部举办2019年中药、药学理论知识与专业技能大赛",
        "title_also": ["我院医技药剂党支部举办2019年中药、药学理论知识与专业技能大赛"],
        "date": "2019-10-31",
        "first": "本站讯（职工通讯员 李琴雯 刘会）为深入推进党建与业务工作紧密结合",
        "last": "此次的大赛成绩较去年有了显著的提升",
        "boilerplate": ["湘ICP备14002927号-5", "版权所有 湖南省中医药研究院附属医院", "24小时急救电话",
                        "传真：0731-88854265", "医院地址：湖南省长沙市麓山路58号"],
        "note": "a hospital's news page; no <h1>: the headline is a div",
    },
}

# The dateline stands between the headline and the article, except on these
# pages, where it follows the article within _DATELINE_REACH characters.
_DATELINE_AFTER_ARTICLE = {"cjddsb_1.html", "toutiao_2.html"}
_DATELINE_REACH = 400

_INVISIBLE = {"script", "style", "noscript", "template", "title"}


class _VisibleText(HTMLParser):
    """The text a page draws: all but scripts, styles, templates and the ``<title>``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _INVISIBLE:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in _INVISIBLE and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def decode(data: bytes) -> str:
    """The page's text: UTF-8 when it decodes as such, else its declared charset.

    Two pages (163_9, people_1) declare GB2312 and are UTF-8: saved pages
    keep their original ``<meta charset>`` after being re-encoded.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([\w-]+)", data[:4096], re.I)
    charset = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    if charset in ("gb2312", "gbk"):
        charset = "gb18030"
    return data.decode(charset, errors="replace")


def squeeze(text: str) -> str:
    """Text without white space, as the table's strings are compared."""
    return re.sub(r"\s+", "", text)


def visible_text(data: bytes) -> str:
    parser = _VisibleText()
    parser.feed(decode(data))
    parser.close()
    return "".join(parser.parts)


def _date_forms(day: str) -> list[str]:
    y, m, d = day.split("-")
    return [day, f"{y}年{m}月{d}日", f"{y}年{int(m)}月{int(d)}日"]


def _script_date(raw: str) -> str | None:
    """The Beijing-time day of a WeChat page's publish time (``var ct``), which it shows only as 昨天/前天."""
    found = re.search(r'var ct = "(\d+)"', raw)
    if not found:
        return None
    moment = datetime.fromtimestamp(int(found.group(1)), timezone(timedelta(hours=8)))
    return moment.date().isoformat()


def check_page(name: str, entry: dict, data: bytes) -> list[str]:
    """What is wrong with one page's judgement, against the page itself."""
    problems = []
    raw = decode(data)
    text = squeeze(visible_text(data))

    def where(s):
        return text.find(squeeze(s))

    for key in ("title", "first"):
        if where(entry[key]) < 0:
            problems.append(f"{name}: {key} {entry[key]!r} is not in the page's text")
    for key in ("title_also", "first_also"):
        for s in entry.get(key, []):
            if where(s) < 0:
                problems.append(f"{name}: {key} {s!r} is not in the page's text")

    start = where(entry["first"])
    end = start + len(squeeze(entry["first"]))
    if entry.get("last"):
        last_at = text.find(squeeze(entry["last"]), max(start, 0))
        if last_at < 0:
            problems.append(f"{name}: last {entry['last']!r} is not after first in the page's text")
        else:
            end = last_at + len(squeeze(entry["last"]))

    day = entry["date"]
    if day is not None:
        if not re.fullmatch(r"\d{4}-\d\d-\d\d", day):
            problems.append(f"{name}: date {day!r} is not YYYY-MM-DD")
        elif start >= 0:
            headline = text.find(squeeze(entry["title"]), 0, start)
            reach = _DATELINE_REACH if name in _DATELINE_AFTER_ARTICLE else 0
            near = text[max(headline, 0):(end + reach) if reach else start]
            if not any(form in near for form in _date_forms(day)) and day != _script_date(raw):
                problems.append(f"{name}: date {day} is not stated by the headline or the article")

    marks = entry["boilerplate"]
    if not 3 <= len(marks) <= 6:
        problems.append(f"{name}: {len(marks)} boilerplate strings (3-6 wanted)")
    for s in marks:
        if not 6 <= len(s) <= 20:
            problems.append(f"{name}: boilerplate {s!r} has {len(s)} characters (6-20 wanted)")
        found = where(s)
        if found < 0:
            problems.append(f"{name}: boilerplate {s!r} is not in the page's text")
        elif start >= 0 and squeeze(s) in text[start:end]:
            problems.append(f"{name}: boilerplate {s!r} occurs inside the article")
    return problems


def check(pages_dir=PAGES_DIR) -> list[str]:
    """Problems of the table against the pages of ``pages_dir`` (empty when it holds)."""
    pages_dir = Path(pages_dir)
    problems = []
    on_disk = {p.name for p in pages_dir.glob("*.html")}
    for name in sorted(on_disk - PAGES.keys()):
        problems.append(f"{name}: in the folder but not judged")
    for name, entry in PAGES.items():
        path = pages_dir / name
        if not path.exists():
            problems.append(f"{name}: judged but not in the folder")
            continue
        problems.extend(check_page(name, entry, path.read_bytes()))
    return problems


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    pages_dir = Path(args[0]) if args else PAGES_DIR
    if not pages_dir.is_dir():
        print(f"no html-dev pages at {pages_dir}; nothing to check")
        return 0
    problems = check(pages_dir)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{len(PAGES)} pages ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seeded generators of realistic Chinese demo data for the bulk seeder.

The seeder writes a million cases in minutes, so nothing here calls Faker per
row: every pool ships in this module and is turned into lookup tables once,
at import. ID numbers are built from precomputed partial weighted sums
(GB 11643-1999), so a person costs a handful of `random` calls.

Everything draws from one `random.Random(seed)`: the same seed and the same
sequence of calls give the same data. The structure lists (townships,
villages) use their own seeded generators, so asking for them does not shift
the stream of people and summaries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cases.idnumbers import CHECK_CHARS, WEIGHTS

# --- People ---------------------------------------------------------------

# Share in hundredths of a percent, after the 2020 census name report (rounded).
_SURNAME_WEIGHTS = (
    ("王", 712), ("李", 700), ("张", 670), ("刘", 540), ("陈", 460), ("杨", 310),
    ("黄", 240), ("赵", 230), ("吴", 200), ("周", 190), ("徐", 145), ("孙", 137),
    ("马", 130), ("朱", 125), ("胡", 120), ("郭", 115), ("何", 110), ("林", 100),
    ("高", 105), ("罗", 90), ("郑", 85), ("梁", 80), ("谢", 75), ("宋", 70),
    ("唐", 70), ("许", 65), ("韩", 65), ("邓", 60), ("冯", 60), ("曹", 58),
    ("彭", 57), ("曾", 55), ("肖", 55), ("田", 50), ("董", 50), ("潘", 46),
    ("袁", 46), ("蔡", 44), ("蒋", 44), ("余", 43), ("于", 43), ("杜", 42),
    ("叶", 42), ("程", 40), ("魏", 38), ("苏", 37), ("吕", 36), ("丁", 36),
    ("任", 35), ("卢", 34), ("姚", 34), ("沈", 33), ("钟", 33), ("姜", 32),
    ("崔", 31), ("谭", 31), ("陆", 30), ("范", 29), ("汪", 29), ("廖", 28),
    ("石", 28), ("金", 27), ("韦", 26), ("贾", 26), ("夏", 25), ("付", 25),
    ("方", 25), ("邹", 24), ("熊", 24), ("白", 24), ("孟", 23), ("秦", 23),
    ("邱", 23), ("侯", 22), ("江", 22), ("尹", 21), ("薛", 21), ("闫", 20),
    ("段", 20), ("雷", 20), ("龙", 19), ("黎", 19), ("史", 19), ("陶", 18),
    ("贺", 18), ("毛", 17), ("郝", 17), ("顾", 16), ("龚", 16), ("邵", 15),
    ("万", 15), ("覃", 14), ("武", 14), ("钱", 13), ("戴", 13), ("严", 13),
    ("欧阳", 5), ("司马", 1), ("诸葛", 1),
)

# (first character pool, second character pool) by sex and "born before 1975".
# One-character given names are drawn from the second pool.
_GIVEN_CHARS = {
    ("M", True): ("建卫志永德文海振长明春金玉立新红国", "国华军强平明伟刚林忠诚生发福成才祥山"),
    ("M", False): ("子浩宇天嘉俊晨博一家志文思明泽睿晓", "轩然宇豪博航阳涛杰鹏磊超辉川睿泽洋"),
    ("F", True): ("秀桂玉丽美春淑凤金素翠红彩冬月", "英兰芳华珍梅霞凤莲琴花荣云香芬"),
    ("F", False): ("欣子雨佳梦思诗雅若紫一可晓婷静", "怡涵琳萱婷颖雪洁琪悦彤妍瑶菲然"),
}
_ONE_CHARACTER_SHARE = 0.2
_MALE_SHARE = 0.6  # petitioners skew male in county registers

# Per mille, after the 2020 census.
_ETHNICITY_WEIGHTS = (
    ("汉族", 911), ("壮族", 14), ("维吾尔族", 8), ("回族", 8), ("苗族", 8), ("满族", 7),
    ("彝族", 7), ("土家族", 7), ("藏族", 5), ("蒙古族", 5), ("布依族", 3), ("侗族", 2),
    ("瑶族", 2), ("白族", 2), ("朝鲜族", 1), ("哈尼族", 1), ("黎族", 1), ("哈萨克族", 1),
)

# Real 6-digit county-level address codes (GB/T 2260).
_REGION_CODES = (
    "110101", "110102", "120101", "130102", "130121", "210102", "310101", "320102",
    "320321", "330102", "330106", "340102", "340121", "350102", "360102", "370102",
    "370124", "410105", "410122", "420102", "430102", "430121", "440103", "500103",
    "510104", "510121", "610102", "610122",
)
_MOBILE_PREFIXES = tuple(
    str(n) for n in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159,
                     *range(180, 190))
)
_BIRTH_RANGE = (date(1940, 1, 1), date(2004, 12, 31))


def _expand(weighted: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """Repeat each value by its weight so a uniform pick follows the weights."""
    return tuple(value for value, weight in weighted for _ in range(weight))


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(char) * weight for char, weight in zip(digits, weights, strict=True))


def _birth_table() -> tuple[tuple[str, int, date], ...]:
    """(YYYYMMDD, its share of the GB 11643-1999 weighted sum, date) for each day."""
    first, last = _BIRTH_RANGE
    rows = []
    for offset in range((last - first).days + 1):
        born = first + timedelta(days=offset)
        digits = f"{born.year:04d}{born.month:02d}{born.day:02d}"
        rows.append((digits, _weighted_sum(digits, WEIGHTS[6:14]), born))
    return tuple(rows)


def _sequence_table(parity: int) -> tuple[tuple[str, int], ...]:
    """Sequence codes 001-999 whose last digit is odd for men, even for women."""
    codes = (f"{n:03d}" for n in range(1, 1000) if n % 2 == parity)
    return tuple((code, _weighted_sum(code, WEIGHTS[14:17])) for code in codes)


_SURNAMES = _expand(_SURNAME_WEIGHTS)
_ETHNICITIES = _expand(_ETHNICITY_WEIGHTS)
_REGIONS = tuple((code, _weighted_sum(code, WEIGHTS[:6])) for code in _REGION_CODES)
_BIRTHS = _birth_table()
_SEQUENCES = {"M": _sequence_table(1), "F": _sequence_table(0)}

# --- Places and departments -----------------------------------------------

_TOWNSHIP_STEMS = (
    "城关", "新华", "青山", "石桥", "柳河", "白沙", "龙泉", "新集", "马庄", "高桥",
    "东坝", "西河", "南岗", "北湖", "大营", "小店", "双河", "三里", "五里", "七星",
    "黄土", "红庙", "长岭", "清水", "杨柳", "桃园", "梨树", "枣林", "花园", "金山",
    "铁佛", "观音", "太平", "永安", "安乐", "平安", "兴隆", "和顺", "丰乐", "河口",
)
_VILLAGE_PLACES = "庄湾营寨坪沟岭店集堡"
_VILLAGE_DIRECTIONS = "东西南北前后上下大小新老中高"
_VILLAGE_FEATURES = "河山湾坡岭桥庄店寨沟塘湖"
_VILLAGE_ERA_NAMES = (
    "红星", "前进", "胜利", "光明", "团结", "和平", "幸福", "新民", "建设", "永丰",
    "丰收", "友谊",
)
_VILLAGE_NAMES = (
    *(f"{s}家{p}村" for s, _ in _SURNAME_WEIGHTS if len(s) == 1 for p in _VILLAGE_PLACES),
    *(f"{d}{f}村" for d in _VILLAGE_DIRECTIONS for f in _VILLAGE_FEATURES),
    *(f"{name}村" for name in _VILLAGE_ERA_NAMES),
)

_DEPARTMENTS = (
    "县人力资源和社会保障局", "县自然资源局", "县住房和城乡建设局", "县生态环境局",
    "县市场监督管理局", "县教育局", "县卫生健康局", "县公安局", "县民政局",
    "县农业农村局", "县交通运输局", "县司法局", "县财政局", "县发展和改革局",
    "县水利局", "县应急管理局", "县医疗保障局", "县退役军人事务局", "县城市管理局",
    "县林业局",
)

# --- Case texts -------------------------------------------------------------


@dataclass(frozen=True)
class _Topic:
    """A second-level category: its parent, its leaves and text fragments.

    Each situation carries the demands (诉求) that fit it, so a summary and its
    demand never contradict each other; details fit any situation of the topic.
    """

    domain: str
    name: str
    leaves: tuple[str, ...]
    situations: tuple[tuple[str, tuple[str, ...]], ...]
    details: tuple[str, ...]


_TOPICS = (
    _Topic(
        "自然资源", "土地征收", ("征地补偿", "土地承包", "宅基地审批"),
        (
            ("{year}年{month}月，镇政府因修建道路征收其所在组耕地{area}亩，补偿款至今未足额发放。",
             ("要求按照现行标准足额发放征地补偿款。", "要求公开补偿款分配明细。")),
            ("村委会未召开村民代表大会，即将其承包的{area}亩责任田划入征收范围。",
             ("要求公开征地批文及补偿分配方案。", "要求恢复其土地承包经营权。")),
            ("其所在组土地于{year}年被征收用于工业园区建设，每亩补偿标准明显低于周边村组。",
             ("要求按照周边村组标准补足征地补偿款。", "要求公开征地批文及补偿分配方案。")),
            ("征地时承诺的被征地农民养老保险至今未办理，涉及同组{n}户村民。",
             ("要求落实被征地农民社会保障待遇。",)),
            ("其申请宅基地建房已{months}个月，镇村两级互相推诿，迟迟不予审批。",
             ("要求依法办理宅基地审批手续。", "要求书面说明不予审批的理由。")),
        ),
        (
            "信访人称已多次向村、镇两级反映，均未得到明确答复。",
            "据信访人称，村集体代管的{amount}元补偿款账目未公开。",
            "信访人称同组其他村民有相同遭遇。",
        ),
    ),
    _Topic(
        "城乡建设", "拆迁安置", ("补偿标准", "安置房分配", "过渡费发放"),
        (
            ("{year}年{month}月，其房屋被列入棚户区改造范围，评估价格明显低于同地段市场价。",
             ("要求重新评估房屋价值并按市场价补偿。", "要求公开评估依据和补偿安置方案。")),
            ("其房屋在未签订补偿协议的情况下被强制拆除，屋内物品未经清点。",
             ("要求对强制拆除行为作出说明并赔偿财产损失。",)),
            ("拆迁时承诺{months}个月内交付安置房，至今已逾期，安置房仍未建成。",
             ("要求尽快交付安置房并补发逾期过渡费。", "要求公布安置房建设进度。")),
            ("其家庭{family}口人，安置时仅按一户计算面积，与政策规定不符。",
             ("要求按家庭实际人口重新核定安置面积。",)),
            ("拆迁过渡费自{year}年{month}月起停发，其一家至今在外租房居住。",
             ("要求补发拖欠的过渡费。", "要求尽快交付安置房并补发过渡费。")),
        ),
        (
            "信访人称曾多次到征收办反映，工作人员均以政策已定为由推诿。",
            "信访人提供了拆迁协议和评估报告复印件。",
            "据信访人称，同一片区其他住户所获补偿高于其本人。",
        ),
    ),
    _Topic(
        "城乡建设", "住房保障", ("公租房申请", "农村危房改造", "保障房分配"),
        (
            ("其于{year}年提交公租房申请，符合条件却一直未被安排配租。",
             ("要求尽快审核并安排公租房。", "要求公开公租房轮候排序。")),
            ("其居住的土坯房已被鉴定为C级危房，申请农村危房改造补助未获批准。",
             ("要求将其纳入农村危房改造计划。",)),
            ("公租房小区房屋漏水严重，多次报修无人处理。",
             ("要求督促管理单位尽快维修。",)),
            ("其申请住房保障被以材料不全为由退回{times}次。",
             ("要求一次性告知所需材料并尽快受理。", "要求书面说明不予受理的理由。")),
            ("危房改造补助资金{amount}元至今未发放到位。",
             ("要求足额发放危房改造补助资金。",)),
        ),
        (
            "信访人系低保户，家中有长期患病人员。",
            "信访人称有不符合条件的家庭获得了保障。",
            "住建部门答复正在核实，但已过去{months}个月。",
        ),
    ),
    _Topic(
        "城乡建设", "物业管理", ("物业服务质量", "物业费收取", "公共维修资金"),
        (
            ("小区物业公司长期不履行保洁、安保职责，垃圾堆放无人清理。",
             ("要求住建部门督促物业公司履行合同义务。", "要求更换物业服务企业。")),
            ("物业公司未经业主大会同意上调物业费，每平方米上涨{price}元。",
             ("要求撤销物业费上调决定，恢复原收费标准。",)),
            ("小区电梯多次停运困人，物业公司以维修资金不足为由拒不维修。",
             ("要求尽快维修电梯并消除安全隐患。", "要求公开公共维修资金使用情况。")),
            ("物业公司擅自将小区公共绿地改建为收费停车位。",
             ("要求恢复公共绿地并退还停车收费。",)),
            ("小区交房{years}年仍未成立业主委员会，公共维修资金去向不明。",
             ("要求指导小区依法成立业主委员会。", "要求公开公共维修资金使用情况。")),
        ),
        (
            "信访人称此事涉及小区住户{households}户。",
            "业主与物业公司多次协商未果，社区调解也未解决。",
            "信访人称已向街道办事处反映，至今未有结果。",
        ),
    ),
    _Topic(
        "劳动和社会保障", "拖欠工资", ("农民工工资", "企业欠薪", "工程款结算"),
        (
            ("其在县城某建筑工地务工，包工头拖欠其工资{wage}元至今未付。",
             ("要求督促施工单位尽快足额支付拖欠工资。", "要求动用农民工工资保证金先行垫付。")),
            ("其与同乡{n}人在某企业务工，企业自{year}年{month}月起停发工资。",
             ("要求督促企业尽快足额支付拖欠工资。", "要求依法追究恶意欠薪人员责任。")),
            ("其所在工地完工后，施工方以工程款未结算为由拒付农民工工资。",
             ("要求督促总包单位先行支付农民工工资。",)),
            ("其在某公司工作{years}年，公司停产后拖欠工资和经济补偿金共计{wage}元。",
             ("要求用人单位支付拖欠工资和经济补偿金。",)),
        ),
        (
            "信访人持有考勤记录和工资欠条。",
            "信访人曾向劳动保障监察大队投诉，至今未有处理结果。",
            "信访人家庭生活困难，急需用钱。",
            "用人单位与劳务分包方互相推诿。",
        ),
    ),
    _Topic(
        "劳动和社会保障", "社会保险", ("养老保险", "工伤认定", "失业保险"),
        (
            ("其在原单位工作{years}年，单位未依法为其缴纳养老保险。",
             ("要求责令单位补缴养老保险。",)),
            ("其已到退休年龄，因档案缺失无法办理退休手续。",
             ("要求协助查找档案并办理退休手续。",)),
            ("其于{year}年{month}月在工作中受伤，用人单位拒绝申报工伤认定。",
             ("要求认定工伤并落实工伤保险待遇。",)),
            ("其认为养老金核算时视同缴费年限计算有误，每月少领{small}元。",
             ("要求重新核算养老金待遇。", "要求社保部门书面说明核算依据。")),
            ("其所在企业破产后，其申领失业保险金被以材料不全为由拒绝。",
             ("要求依法核发失业保险金。",)),
        ),
        (
            "信访人称已向社保经办机构提交材料，被告知不符合条件。",
            "信访人提供了劳动合同和工资流水。",
            "原用人单位已注销，信访人找不到责任主体。",
        ),
    ),
    _Topic(
        "生态环境", "环境污染", ("大气污染", "水污染", "噪声污染"),
        (
            ("村旁养殖场长期直排粪污，附近河道发黑发臭。",
             ("要求环保部门现场检测并依法查处。", "要求责令养殖场停产整改。")),
            ("某化工企业夜间偷排废气，周边群众反映有刺鼻气味。",
             ("要求环保部门夜间突击检查并依法查处。", "要求公开企业环评和排污许可情况。")),
            ("附近砂石厂昼夜生产，粉尘和噪声严重影响周边村民生活。",
             ("要求责令砂石厂停产整改或搬迁。", "要求限制夜间生产。")),
            ("某餐饮店油烟直排，楼上住户无法开窗。",
             ("要求责令餐饮店安装油烟净化设施。",)),
            ("工业园区企业排放废水，导致其承包的{area}亩鱼塘鱼类大量死亡。",
             ("要求查明污染源并赔偿经济损失。",)),
        ),
        (
            "信访人称曾拨打12345热线投诉，整改后不久又恢复原状。",
            "信访人提供了现场照片和视频。",
            "周边{n}户群众联名反映此问题。",
            "信访人称家中老人和儿童因此出现身体不适。",
        ),
    ),
    _Topic(
        "政法", "涉法涉诉", ("不服法院判决", "执行难", "治安案件处理"),
        (
            ("其对县人民法院{year}年作出的民事判决不服，认为事实认定错误。",
             ("要求依法纠正原判决。",)),
            ("其胜诉的借款纠纷案件判决生效已{months}个月，被执行人拒不履行。",
             ("要求法院加大执行力度，尽快执行到位。",)),
            ("其报案称被人殴打致伤，派出所至今未作出处理决定。",
             ("要求公安机关依法处理并追究打人者责任。",)),
            ("其被骗{amount}元，公安机关立案后案件长期无进展。",
             ("要求加快侦办进度并追回被骗款项。",)),
        ),
        (
            "信访人称已申请再审，被驳回后仍不服。",
            "信访人认为办案人员与对方当事人存在利害关系。",
            "信访人持有相关法律文书复印件。",
        ),
    ),
    _Topic(
        "农村农业", "村务公开", ("村级财务公开", "集体资产处置", "低保评定"),
        (
            ("村委会近{years}年未公开村级财务收支，村民无法查阅账目。",
             ("要求对村级财务进行审计并公开结果。",)),
            ("村集体{area}亩林地被低价发包给村干部亲属，未经村民代表大会讨论。",
             ("要求依法收回违规发包的集体资产。", "要求查处村干部违纪违法问题。")),
            ("村里修路款{amount}元去向不明，村民多次要求公开未果。",
             ("要求公开修路款使用明细。", "要求对村级财务进行审计并公开结果。")),
            ("村干部在低保评定中优亲厚友，不符合条件的家庭享受低保。",
             ("要求重新评定低保对象并张榜公示。",)),
            ("村集体厂房出租收入未纳入村级账目管理。",
             ("要求将租金收入纳入村级账目并公开。",)),
        ),
        (
            "信访人与同村{n}名村民联名来信。",
            "信访人称曾向镇纪委反映，未收到答复。",
            "信访人要求查看账目，被村会计以各种理由拒绝。",
        ),
    ),
    _Topic(
        "卫生健康", "医疗卫生", ("医疗纠纷", "医保报销", "基层医疗服务"),
        (
            ("其家属在县人民医院住院期间病情加重死亡，认为医院存在诊疗过错。",
             ("要求卫健部门组织调查并依法处理。", "要求医院赔偿相关损失。")),
            ("其在乡镇卫生院治疗后出现并发症，卫生院拒绝承担责任。",
             ("要求卫生院赔偿医疗费用和相关损失。",)),
            ("其住院费用{amount}元，医保报销比例低于政策规定。",
             ("要求按政策重新核算医保报销金额。",)),
            ("其在外地就医后回县报销，被医保经办机构以手续不全为由拒绝。",
             ("要求一次性告知所需材料并予以报销。",)),
            ("村卫生室长期无人值守，村民看病需到{km}公里外的镇卫生院。",
             ("要求配齐村卫生室医务人员。",)),
        ),
        (
            "信访人称曾与医疗机构多次协商，未达成一致。",
            "信访人称医疗机构未向其出具完整病历。",
            "信访人家庭因病致贫，无力承担后续治疗费用。",
        ),
    ),
    _Topic(
        "教育文体", "教育", ("入学就学", "教师待遇", "校园安全"),
        (
            ("其子女户籍在本县，申请就近入学时被安排到{km}公里外的学校。",
             ("要求按就近入学原则重新安排学校。",)),
            ("其孩子在校期间被同学殴打受伤，学校处理不当。",
             ("要求学校承担管理责任并赔偿医疗费用。",)),
            ("其系原乡村代课教师，任教{years}年，要求落实相关待遇。",
             ("要求落实原代课教师生活补助。",)),
            ("学校以资料费名义向每名学生收取{small}元。",
             ("要求教育部门查处违规收费并清退费用。",)),
            ("村小学撤并后，学生上学路途远且无校车接送。",
             ("要求解决学生上下学交通问题。",)),
        ),
        (
            "信访人称曾多次向学校反映，校方态度冷淡。",
            "信访人称另有{n}名家长或教师有同样反映。",
            "信访人称已向教育局反映，对答复不认可。",
        ),
    ),
    _Topic(
        "交通运输", "交通出行", ("道路建设", "公交客运", "交通事故处理"),
        (
            ("村通组道路年久失修，雨天泥泞无法通行。",
             ("要求将该路段纳入道路建设计划并尽快修复。",)),
            ("县道改扩建工程占用其承包地{area}亩，补偿至今未到位。",
             ("要求尽快发放占地补偿款。",)),
            ("城乡公交线路调整后，其所在村不再通公交。",
             ("要求恢复原公交线路或增设站点。",)),
            ("其家人在交通事故中受伤，肇事车辆逃逸，至今未查获。",
             ("要求交警部门尽快侦破并查明事故责任。",)),
            ("道路施工封闭已逾{months}个月，沿线商户经营受到严重影响。",
             ("要求加快施工进度并给予合理补偿。",)),
        ),
        (
            "信访人称周边{n}户群众出行受影响。",
            "信访人称曾向镇政府反映，被告知暂无资金或答复正在处理。",
            "信访人称为此垫付各项费用{amount}元。",
        ),
    ),
    _Topic(
        "民政和社会事务", "婚姻家庭", ("婚姻纠纷", "赡养纠纷", "家庭暴力"),
        (
            ("其与配偶长期分居，对方拒绝协议离婚并扣留其证件。",
             ("要求提供法律援助。", "要求督促对方返还证件。")),
            ("其年逾七十，{children}名子女均不履行赡养义务。",
             ("要求依法调解并督促子女履行赡养义务。",)),
            ("其遭受配偶家庭暴力，向村委会求助后未得到有效处理。",
             ("要求公安机关出具告诫书并保护其人身安全。",)),
            ("其离婚后对方拒不支付子女抚养费，已拖欠{months}个月。",
             ("要求督促对方支付抚养费。", "要求提供法律援助。")),
        ),
        (
            "村调委会曾组织调解，但对方未履行调解协议。",
            "信访人生活困难，无固定收入来源。",
            "信访人不了解诉讼程序，希望得到帮助。",
        ),
    ),
    _Topic(
        "民政和社会事务", "邻里纠纷", ("宅基地界址", "相邻通行", "排水采光"),
        (
            ("邻居建房时越界占用其宅基地约{plot}平方米。",
             ("要求村委会重新测量确定界址。", "要求拆除越界建筑。")),
            ("邻居在其家门前堆放杂物，阻断其唯一出行通道。",
             ("要求责令邻居清除障碍，恢复通行。",)),
            ("邻居将生活污水排入其院内，多次协商无果。",
             ("要求组织调解并责令邻居改道排水。",)),
            ("邻居新建房屋遮挡其住房采光，双方多次发生争执。",
             ("要求组织调解并赔偿损失。",)),
            ("其与邻居因地界问题发生冲突，本人被打伤。",
             ("要求依法处理打人者并赔偿医疗费。",)),
        ),
        (
            "村调委会已调解{times}次，双方未达成一致。",
            "信访人称对方与村干部有亲属关系，调解不公。",
            "双方矛盾有激化趋势。",
        ),
    ),
)

_OPENERS = ("信访人反映，", "来访人称，", "信访人来信反映，", "信访人来电反映，")
_TAILS = (
    "此前已到镇、县两级反映{times}次。",
    "信访人称该问题已持续{months}个月。",
    "信访人对前期处理意见不满意，系重复信访。",
    "信访人情绪激动，称如不解决将继续上访。",
    "信访人表示愿意配合调查核实。",
)
_DETAIL_SHARE = 0.7
_TAIL_SHARE = 0.35

# Values for the {slots} in the fragments; each takes the generator.
_SLOTS = {
    "year": lambda r: r.randint(2016, 2024),
    "month": lambda r: r.randint(1, 12),
    "area": lambda r: f"{r.randint(5, 600) / 10:.1f}",
    "amount": lambda r: r.randint(20, 8000) * 100,
    "wage": lambda r: r.randint(30, 1200) * 100,
    "small": lambda r: r.randint(5, 90) * 10,
    "price": lambda r: f"{r.randint(2, 15) / 10:.1f}",
    "n": lambda r: r.randint(3, 60),
    "households": lambda r: r.randint(20, 600),
    "family": lambda r: r.randint(3, 8),
    "children": lambda r: r.randint(2, 5),
    "months": lambda r: r.randint(2, 24),
    "years": lambda r: r.randint(2, 15),
    "times": lambda r: r.randint(2, 6),
    "km": lambda r: r.randint(5, 40),
    "plot": lambda r: r.randint(3, 40),
}


class _Slots(dict):
    """Fill a fragment's {slots} lazily: only the ones it names are drawn."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> Any:
        value = self[key] = _SLOTS[key](self.rng)
        return value


def _topic_index() -> dict[str, _Topic]:
    """Look topics up by their own name or by any of their leaves."""
    index = {leaf: topic for topic in _TOPICS for leaf in topic.leaves}
    index.update((topic.name, topic) for topic in _TOPICS)
    return index


_TOPIC_BY_NAME = _topic_index()


def _find_topic(category: str | tuple[str, ...]) -> _Topic:
    """Accept a topic or leaf name, a path tuple, or the national `A_B_C` path."""
    parts = category.split("_") if isinstance(category, str) else category
    for part in reversed(parts):
        if part in _TOPIC_BY_NAME:
            return _TOPIC_BY_NAME[part]
    raise KeyError(f"Unknown category {category!r}; use one of category_paths().")


# --- The source -------------------------------------------------------------


class FakeSource:
    """Deterministic generator of demo petitioners, places and case texts."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def person(self) -> dict[str, Any]:
        """Return a petitioner with a valid GB 11643-1999 ID number."""
        rng = self._rng
        sex = "M" if rng.random() < _MALE_SHARE else "F"
        born_digits, born_sum, born = rng.choice(_BIRTHS)
        region, region_sum = rng.choice(_REGIONS)
        sequence, sequence_sum = rng.choice(_SEQUENCES[sex])
        check = CHECK_CHARS[(region_sum + born_sum + sequence_sum) % 11]
        return {
            "name": self._name(sex, born.year < 1975),
            "sex": sex,
            "id_number": f"{region}{born_digits}{sequence}{check}",
            "birth_date": born,
            "phone": f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}",
            "ethnicity": rng.choice(_ETHNICITIES),
        }

    def _name(self, sex: str, older: bool) -> str:
        rng = self._rng
        firsts, seconds = _GIVEN_CHARS[sex, older]
        surname = rng.choice(_SURNAMES)
        if rng.random() < _ONE_CHARACTER_SHARE:
            return surname + rng.choice(seconds)
        return surname + rng.choice(firsts) + rng.choice(seconds)

    def address(self, village_name: str) -> str:
        """Return a rural address in the village: group (组) and house number."""
        rng = self._rng
        group = rng.randint(1, 12)
        if rng.random() < 0.15:
            return f"{village_name}{group}组"
        return f"{village_name}{group}组{rng.randint(1, 120)}号"

    def summary(self, category: str | tuple[str, ...]) -> tuple[str, str]:
        """Return (概况 of 1-3 sentences, 诉求) for a topic, leaf or category path."""
        rng = self._rng
        topic = _find_topic(category)
        slots = _Slots(rng)
        situation, demands = rng.choice(topic.situations)
        parts = [rng.choice(_OPENERS), situation]
        if rng.random() < _DETAIL_SHARE:
            parts.append(rng.choice(topic.details))
        if rng.random() < _TAIL_SHARE:
            parts.append(rng.choice(_TAILS))
        return "".join(parts).format_map(slots), rng.choice(demands).format_map(slots)

    @staticmethod
    def category_paths() -> list[tuple[str, ...]]:
        """Return the category tree as (domain, topic, leaf) paths."""
        return [(t.domain, t.name, leaf) for t in _TOPICS for leaf in t.leaves]

    def township_names(self, n: int) -> list[str]:
        """Return n distinct township names; a smaller n gives a prefix of a larger one."""
        stems = self._shuffled(_TOWNSHIP_STEMS, "townships", n)
        rng = random.Random(f"{self.seed}:township-suffixes")
        return [stem + ("镇" if rng.random() < 0.65 else "乡") for stem in stems]

    def village_names(self, n: int) -> list[str]:
        """Return n distinct village names; a smaller n gives a prefix of a larger one."""
        return self._shuffled(_VILLAGE_NAMES, "villages", n)

    @staticmethod
    def department_names() -> list[str]:
        """Return the county departments that cases are routed to."""
        return list(_DEPARTMENTS)

    def _shuffled(self, pool: tuple[str, ...], purpose: str, n: int) -> list[str]:
        if not 0 <= n <= len(pool):
            raise ValueError(f"Can make 0 to {len(pool)} {purpose}, not {n}.")
        names = list(pool)
        random.Random(f"{self.seed}:{purpose}").shuffle(names)
        return names[:n]

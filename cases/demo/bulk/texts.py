"""What the seeded steps say: answers on the spot, refusals, returns, openers.

Data only, in Chinese like the case texts of ``cases.demo.texts``.
"""

SPOT_ANSWERS = (
    "已当场向信访人解释相关政策规定，信访人表示理解。",
    "经当场查询，信访人所反映问题已有处理结果，已当面告知。",
    "已当场告知信访人办理渠道和所需材料，信访人表示认可。",
    "已当场联系责任单位核实并答复，信访人表示满意。",
)
REFUSALS = (  # (channel, reason, weight)
    ("court", "该事项属于应当通过诉讼解决的民事纠纷，已告知信访人依法向人民法院提起诉讼。", 35),
    ("arbitration", "该事项属于劳动争议，已告知信访人向劳动人事争议仲裁委员会申请仲裁。", 20),
    ("reconsideration", "该事项属于可以申请行政复议的行政行为，已告知信访人依法申请行政复议。", 15),
    ("discipline", "该事项属于对公职人员的检举控告，已告知信访人向纪检监察机关反映。", 10),
    ("pending", "该事项已由有权处理的机关受理且在办理期限内，不再重复受理。", 10),
    ("procuratorate", "该事项涉及对司法活动的监督，已告知信访人向人民检察院反映。", 5),
)
# A repeat of a matter already final after re-review, with nothing new (R22 Art.36):
# the only refusals with the channel "already final".
FINAL_REFUSAL = ("final", "该事项已经复核终结，信访人以同一事实和理由提出，不再受理。")
RETURN_REASONS = (
    "该事项不属于本单位职责范围，请重新转送有权处理的单位。",
    "经核实，该事项属于县直部门职能，本乡镇无权处理。",
    "信访人所反映问题发生地不在本辖区，请核实属地后重新交办。",
)
# What a petitioner said that the clerk records as a threat (扬言), word for word.
THREATS = ("如果再不解决，我们就去市里上访。", "扬言要到北京反映问题。",
           "称问题不解决就在镇政府门口拉横幅。")
COMPLAINED_ROLES = ("村党支部书记", "村委会主任", "村会计", "镇政府工作人员", "网格员")
# FakeSource opens a summary with who reported it; make that fit the channel.
OPENERS = {"visit": "来访人称，", "letter": "信访人来信反映，", "phone": "信访人来电反映，",
           "online": "信访人反映，"}

# --- 包案: what the responsible leader undertakes ({topic}: the second-level category) ---

MEASURES = (
    "包案领导亲自接访，约谈信访人，督促责任单位限期解决{topic}问题。",
    "召开专题协调会，组织相关部门联合调查，依法依规化解{topic}问题。",
    "实地走访核实情况，明确责任人和办理时限，跟踪督办到位。",
    "逐户上门做好解释疏导，落实稳控责任，防止矛盾激化。",
    "牵头约谈{topic}相关责任单位，限期拿出处理方案并向信访人反馈。",
)

# --- Written decisions (R22 Art.32, 35, 36) ---------------------------------------

# The law each topic's decisions rest on, before the article of the petition regulations.
TOPIC_LAWS = {
    "土地征收": "《中华人民共和国土地管理法》", "拆迁安置": "《国有土地上房屋征收与补偿条例》",
    "住房保障": "《公共租赁住房管理办法》", "物业管理": "《物业管理条例》",
    "拖欠工资": "《保障农民工工资支付条例》", "社会保险": "《中华人民共和国社会保险法》",
    "环境污染": "《中华人民共和国环境保护法》", "涉法涉诉": "《中华人民共和国民事诉讼法》",
    "村务公开": "《中华人民共和国村民委员会组织法》", "医疗卫生": "《医疗纠纷预防和处理条例》",
    "教育": "《中华人民共和国义务教育法》", "交通出行": "《中华人民共和国公路法》",
    "婚姻家庭": "《中华人民共和国民法典》", "邻里纠纷": "《中华人民共和国民法典》",
}
DEFAULT_LAW = "国家和省有关政策"
# The re-review of a review the county decided is the city's (R22 Art.36), outside
# this installation: the decision names it.
REREVIEW_BODY = "某市信访局"
ARTICLES = {"reply": "《信访工作条例》第三十二条", "review": "《信访工作条例》第三十五条",
            "rereview": "《信访工作条例》第三十六条"}

# What each kind of decision says the petitioner asked for, before the case's 诉求.
REQUESTS = {
    "reply": "信访人",
    "review": "信访人不服书面答复意见，申请复查，",
    "rereview": "信访人不服复查意见，申请复核，",
}
# Facts found, by outcome, after what was reported (the summary's first sentence).
FACTS = {
    "support": "经调查核实，所反映{topic}问题基本属实。",
    "explain": "经调查核实，所反映{topic}问题部分属实，已按现行政策处理。",
    "not_support": "经调查核实，所反映{topic}问题与调查结果不符。",
}
# Review and re-review: {stage} is 复查 or 复核, {earlier} the decision under review.
REVIEW_STAGES = {"review": ("复查", "原处理意见"), "rereview": ("复核", "复查意见")}
REVIEW_FACTS = {
    "upheld": "经{stage}，{earlier}认定事实清楚，证据充分。",
    "changed": "经{stage}，{earlier}认定事实基本清楚，但处理结果不当。",
}
REASONS = {
    "support": "信访人的诉求符合{law}有关规定，予以支持，责成承办单位三十日内落实到位。",
    "explain": "信访人的诉求缺乏{law}依据，已向其解释说明相关政策，并告知其他救济途径。",
    "not_support": "信访人的诉求不符合{law}有关规定，不予支持。",
}
REVIEW_REASONS = {
    "upheld": "{earlier}适用依据正确、处理恰当，予以维持。",
    "changed": "{earlier}处理结果不当，依据{law}有关规定予以变更。",
}

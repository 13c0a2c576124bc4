"""Chinese names of arXiv categories, for the digest and the CLI."""

from __future__ import annotations

import difflib
import re
from types import MappingProxyType

# Every cs.* category of arXiv's taxonomy, then the other archives that papers in cs.CL / cs.AI /
# cs.LG are cross-listed with (all those seen in the sample days, plus their close relatives).
CATEGORY_NAMES_ZH = MappingProxyType(
    {
        "cs.AI": "人工智能",
        "cs.AR": "硬件体系结构",
        "cs.CC": "计算复杂性",
        "cs.CE": "计算工程、金融与科学",
        "cs.CG": "计算几何",
        "cs.CL": "计算语言学",
        "cs.CR": "密码学与安全",
        "cs.CV": "计算机视觉",
        "cs.CY": "计算机与社会",
        "cs.DB": "数据库",
        "cs.DC": "分布式、并行与集群计算",
        "cs.DL": "数字图书馆",
        "cs.DM": "离散数学",
        "cs.DS": "数据结构与算法",
        "cs.ET": "新兴技术",
        "cs.FL": "形式语言与自动机理论",
        "cs.GL": "计算机科学综合文献",
        "cs.GR": "计算机图形学",
        "cs.GT": "计算机科学与博弈论",
        "cs.HC": "人机交互",
        "cs.IR": "信息检索",
        "cs.IT": "信息论",
        "cs.LG": "机器学习",
        "cs.LO": "计算机科学中的逻辑",
        "cs.MA": "多智能体系统",
        "cs.MM": "多媒体",
        "cs.MS": "数学软件",
        "cs.NA": "数值分析",
        "cs.NE": "神经与进化计算",
        "cs.NI": "网络与互联网体系结构",
        "cs.OH": "其他计算机科学",
        "cs.OS": "操作系统",
        "cs.PF": "性能",
        "cs.PL": "编程语言",
        "cs.RO": "机器人",
        "cs.SC": "符号计算",
        "cs.SD": "声音",
        "cs.SE": "软件工程",
        "cs.SI": "社会与信息网络",
        "cs.SY": "系统与控制",
        "stat.AP": "统计应用",
        "stat.CO": "统计计算",
        "stat.ME": "统计方法",
        "stat.ML": "统计机器学习",
        "stat.OT": "其他统计",
        "stat.TH": "统计理论",
        "eess.AS": "音频与语音处理",
        "eess.IV": "图像与视频处理",
        "eess.SP": "信号处理",
        "eess.SY": "系统与控制",
        "econ.EM": "计量经济学",
        "econ.GN": "一般经济学",
        "econ.TH": "理论经济学",
        "math.AC": "交换代数",
        "math.AT": "代数拓扑",
        "math.CO": "组合数学",
        "math.CT": "范畴论",
        "math.DG": "微分几何",
        "math.DS": "动力系统",
        "math.FA": "泛函分析",
        "math.GR": "群论",
        "math.GT": "几何拓扑",
        "math.IT": "信息论",
        "math.LO": "数理逻辑",
        "math.NA": "数值分析",
        "math.OC": "优化与控制",
        "math.PR": "概率论",
        "math.ST": "统计理论",
        "math-ph": "数学物理",
        "quant-ph": "量子物理",
        "q-bio.BM": "生物分子",
        "q-bio.GN": "基因组学",
        "q-bio.NC": "神经元与认知",
        "q-bio.OT": "其他定量生物学",
        "q-bio.PE": "种群与进化",
        "q-bio.QM": "定量方法",
        "q-fin.CP": "计算金融",
        "q-fin.MF": "数理金融",
        "q-fin.PM": "投资组合管理",
        "q-fin.RM": "风险管理",
        "q-fin.ST": "金融统计",
        "q-fin.TR": "交易与市场微观结构",
        "physics.acc-ph": "加速器物理",
        "physics.ao-ph": "大气与海洋物理",
        "physics.app-ph": "应用物理",
        "physics.bio-ph": "生物物理",
        "physics.chem-ph": "化学物理",
        "physics.comp-ph": "计算物理",
        "physics.data-an": "数据分析、统计与概率",
        "physics.flu-dyn": "流体力学",
        "physics.geo-ph": "地球物理",
        "physics.med-ph": "医学物理",
        "physics.optics": "光学",
        "physics.soc-ph": "物理与社会",
        "cond-mat.dis-nn": "无序系统与神经网络",
        "cond-mat.mtrl-sci": "材料科学",
        "cond-mat.soft": "软凝聚态物理",
        "cond-mat.stat-mech": "统计力学",
        "cond-mat.str-el": "强关联电子",
        "astro-ph.EP": "地球与行星天体物理",
        "astro-ph.GA": "星系天体物理",
        "astro-ph.IM": "天体物理仪器与方法",
        "astro-ph.SR": "太阳与恒星天体物理",
        "hep-ex": "高能物理实验",
        "hep-ph": "高能物理唯象",
        "hep-th": "高能物理理论",
        "nlin.AO": "适应与自组织系统",
        "nlin.PS": "模式形成与孤子",
        "nucl-th": "核理论",
    }
)


def category_name_zh(code: str) -> str:
    """Return the Chinese name of an arXiv category (``"cs.LG"`` → ``"机器学习"``); unknown → the code."""
    return CATEGORY_NAMES_ZH.get(code.strip(), code.strip())


def format_category(code: str) -> str:
    """Return ``"cs.LG (机器学习)"`` for a known category, the bare code (``"math.XX"``) otherwise."""
    code = code.strip()
    name = CATEGORY_NAMES_ZH.get(code)
    return f"{code} ({name})" if name else code


# arXiv's category form: an archive (``cs``, ``hep-ex``, ``q-bio``), then an optional subject
# (``.CL``, ``.str-el``). Checked before a code reaches a query: it is spliced into API search strings.
_FORM = re.compile(r"[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[a-z]+)*)?")
_COMPLETE_ARCHIVES = ("cs.",)  # archives whose every category is in the table above


def category_problem(code: str) -> str | None:
    """Return why `code` is not an arXiv category (naming the nearest known one), or None when it is.

    Every ``cs.*`` code is checked against the taxonomy; other archives by form only.
    """
    if code in CATEGORY_NAMES_ZH or (_FORM.fullmatch(code) and not code.startswith(_COMPLETE_ARCHIVES)):
        return None
    by_lower = {c.lower(): c for c in CATEGORY_NAMES_ZH}
    near = by_lower.get(code.lower()) or next(
        iter(difflib.get_close_matches(code.lower(), list(by_lower), n=1, cutoff=0.6)), None
    )
    hint = f" (did you mean {by_lower.get(near, near)!r}?)" if near else " (expected e.g. cs.CL)"
    return f"not an arXiv category: {code!r}{hint}"

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class MemberCategory(models.TextChoices):
    FULL = "full", _("Full member")
    PROBATIONARY = "probationary", _("Probationary member")


class MemberStatus(models.TextChoices):
    """Membership status of the national record (党籍状态)."""

    NORMAL = "normal", _("Normal")
    SUSPENDED = "suspended", _("Membership suspended")  # 停止党籍
    RESERVED = "reserved", _("Membership reserved")  # 保留党籍
    REMOVED = "removed", _("No longer a member")  # 出党、除名、退党: the record is kept
    DECEASED = "deceased", _("Deceased")


#: Statuses of people who still belong to the branch (they count in its member figures).
CURRENT_STATUSES = (MemberStatus.NORMAL, MemberStatus.SUSPENDED, MemberStatus.RESERVED)


class Education(models.TextChoices):
    DOCTORATE = "doctorate", _("Doctorate")
    MASTER = "master", _("Master's degree")
    BACHELOR = "bachelor", _("Bachelor's degree")
    COLLEGE = "college", _("Junior college")
    SECONDARY_VOCATIONAL = "secondary_vocational", _("Secondary vocational school")
    HIGH_SCHOOL = "high_school", _("Senior high school")
    JUNIOR_HIGH = "junior_high", _("Junior high school")
    PRIMARY = "primary", _("Primary school or below")


class Occupation(models.TextChoices):
    DELIVERY_RIDER = "delivery_rider", _("Delivery rider")
    COURIER = "courier", _("Courier")
    RIDE_HAILING_DRIVER = "ride_hailing_driver", _("Ride-hailing driver")
    TRUCK_DRIVER = "truck_driver", _("Truck driver")
    INTERNET_WORKER = "internet_worker", _("Internet worker")
    FREELANCER = "freelancer", _("Freelancer")
    NON_PUBLIC_STAFF = "non_public_staff", _("Non-public enterprise staff")
    OTHER = "other", _("Other")


class AffiliationKind(models.TextChoices):
    """Ways a member takes part in a branch other than the formal one (no vote there)."""

    FUNCTIONAL = "functional", _("Functional branch")
    BUILDING = "building", _("Building branch")
    HOST = "host", _("Host branch (mobile member)")


class Ethnicity(models.TextChoices):
    """The 56 ethnic groups in the order of GB/T 3304, plus the two remaining codes of that standard."""

    HAN = "han", _("Han")
    MONGOL = "mongol", _("Mongol")
    HUI = "hui", _("Hui")
    TIBETAN = "tibetan", _("Tibetan")
    UYGHUR = "uyghur", _("Uyghur")
    MIAO = "miao", _("Miao")
    YI = "yi", _("Yi")
    ZHUANG = "zhuang", _("Zhuang")
    BUYEI = "buyei", _("Buyei")
    KOREAN = "korean", _("Korean")
    MANCHU = "manchu", _("Manchu")
    DONG = "dong", _("Dong")
    YAO = "yao", _("Yao")
    BAI = "bai", _("Bai")
    TUJIA = "tujia", _("Tujia")
    HANI = "hani", _("Hani")
    KAZAKH = "kazakh", _("Kazakh")
    DAI = "dai", _("Dai")
    LI = "li", _("Li")
    LISU = "lisu", _("Lisu")
    VA = "va", _("Va")
    SHE = "she", _("She")
    GAOSHAN = "gaoshan", _("Gaoshan")
    LAHU = "lahu", _("Lahu")
    SUI = "sui", _("Sui")
    DONGXIANG = "dongxiang", _("Dongxiang")
    NAXI = "naxi", _("Naxi")
    JINGPO = "jingpo", _("Jingpo")
    KYRGYZ = "kyrgyz", _("Kyrgyz")
    TU = "tu", _("Tu")
    DAUR = "daur", _("Daur")
    MULAM = "mulam", _("Mulam")
    QIANG = "qiang", _("Qiang")
    BLANG = "blang", _("Blang")
    SALAR = "salar", _("Salar")
    MAONAN = "maonan", _("Maonan")
    GELAO = "gelao", _("Gelao")
    XIBE = "xibe", _("Xibe")
    ACHANG = "achang", _("Achang")
    PUMI = "pumi", _("Pumi")
    TAJIK = "tajik", _("Tajik")
    NU = "nu", _("Nu")
    UZBEK = "uzbek", _("Uzbek")
    RUSSIAN = "russian", _("Russian")
    EVENKI = "evenki", _("Evenki")
    DEANG = "deang", _("De'ang")
    BONAN = "bonan", _("Bonan")
    YUGUR = "yugur", _("Yugur")
    GIN = "gin", _("Gin")
    TATAR = "tatar", _("Tatar")
    DERUNG = "derung", _("Derung")
    OROQEN = "oroqen", _("Oroqen")
    HEZHEN = "hezhen", _("Hezhen")
    MONPA = "monpa", _("Monpa")
    LHOBA = "lhoba", _("Lhoba")
    JINO = "jino", _("Jino")
    UNRECOGNISED = "unrecognised", _("Unrecognised ethnic group")
    FOREIGN_ORIGIN = "foreign_origin", _("Chinese citizen of foreign origin")


#
# Import jobs
#
class ImportStatus(models.TextChoices):
    """Where a member import stands: checked first (preview), then written on the user's choice."""

    PENDING = "pending", _("Waiting to start")
    VALIDATING = "validating", _("Checking rows")
    VALIDATED = "validated", _("Checked, waiting for your choice")
    COMMITTING = "committing", _("Importing rows")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


#: Statuses during which the page polls for progress.
IMPORT_RUNNING_STATUSES = (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.COMMITTING)


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: import only if every row is valid")
    VALID_ONLY = "valid_only", _("Only the valid rows: skip the bad ones")


class ImportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel workbook (.xlsx)")

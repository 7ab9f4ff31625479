"""Member models, one module per subject; everything is re-exported so callers keep `from members.models import X`.

records: the member record, platforms, affiliations, import jobs.
transfers: transfers of the formal relationship and their letters. mobility: activity cards, report-ins,
last contact and lost-contact cases.
"""

from members.models.appraisal import AppraisalRound, AppraisalSubject, PeerRating
from members.models.development import (
    Applicant,
    AssemblyVote,
    DevelopmentInterval,
    DevelopmentReminderLog,
    DevelopmentStep,
    StepDocument,
)
from members.models.dues import (
    DuesAssessment,
    DuesBracket,
    DuesPaidMonth,
    DuesPayment,
    DuesReminderLog,
    MonthlyIncome,
)
from members.models.mobility import ActivityCard, LostContactCase, MemberContact, MobilityReminderLog, ReportIn
from members.models.notices import Notice, NoticeAttachment, NoticeRead
from members.models.records import (
    Affiliation,
    ImportJob,
    Member,
    MemberManager,
    MemberQuerySet,
    Platform,
)
from members.models.stats import BranchStat
from members.models.transfers import LetterCounter, Transfer, TransferReminderLog
from members.models.votes import (
    NamedBallot,
    NamedBallotChoice,
    SecretBallot,
    SecretBallotChoice,
    Vote,
    VoteEligibility,
    VoteOption,
    VoteParticipation,
)
from members.sensitive import sensitive_columns

__all__ = ["Affiliation", "ImportJob", "Member", "MemberManager", "MemberQuerySet", "Platform", "sensitive_columns"]
__all__ += ["LetterCounter", "Transfer", "TransferReminderLog"]
__all__ += ["ActivityCard", "LostContactCase", "MemberContact", "MobilityReminderLog", "ReportIn"]
__all__ += ["Applicant", "AssemblyVote", "DevelopmentInterval", "DevelopmentReminderLog", "DevelopmentStep"]
__all__ += ["StepDocument", "DuesAssessment", "DuesBracket", "DuesPaidMonth", "DuesPayment", "DuesReminderLog"]
__all__ += ["MonthlyIncome"]
__all__ += ["BranchStat"]
__all__ += ["AppraisalRound", "AppraisalSubject", "PeerRating"]
__all__ += ["Notice", "NoticeAttachment", "NoticeRead"]
__all__ += ["NamedBallot", "NamedBallotChoice", "SecretBallot", "SecretBallotChoice", "Vote", "VoteEligibility"]
__all__ += ["VoteOption", "VoteParticipation"]

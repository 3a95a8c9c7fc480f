"""Staff pages beside the case pages: the clerk's reissue of a query code
(/cases/<number>/query-code/) and the follow-ups (/cases/follow-ups/)."""

from django.urls import path

from . import views_campaign, views_staff

app_name = "followup_staff"
urlpatterns = [
    path("<case_number:number>/query-code/", views_staff.reissue, name="reissue"),
    path("follow-ups/", views_staff.followup_list, name="followups"),
    path("follow-ups/<int:pk>/", views_staff.followup_detail, name="followup"),
    path("follow-ups/<int:pk>/assign/", views_staff.followup_assign_view, name="assign"),
    path("follow-ups/<int:pk>/attempt/", views_staff.followup_attempt_view, name="attempt"),
    path("follow-ups/<int:pk>/outcome/", views_staff.followup_outcome_view, name="outcome"),
    path("follow-ups/decisions/", views_staff.decision_list, name="decisions"),
    path("follow-ups/decisions/<int:pk>/", views_staff.decision_detail, name="decision"),
    path("follow-ups/campaigns/", views_campaign.campaign_list, name="campaigns"),
    path("follow-ups/campaigns/new/", views_campaign.campaign_new, name="campaign_new"),
    path("follow-ups/campaigns/<int:pk>/", views_campaign.campaign_detail, name="campaign"),
]
